//! The storage seam: a key-value store with revisions, compare-and-swap and
//! watch. etcd is the real implementation; the in-memory one serves fast unit
//! tests. Both pass the same conformance suite (tests/storage_conformance.rs).
//!
//! Revisions are store-wide and increase with every write, like etcd's; an
//! object's resourceVersion is the mod revision of its key.

use async_trait::async_trait;
use futures::stream::BoxStream;

pub mod etcd;
mod guaranteed_update;
pub mod memory;

pub use guaranteed_update::guaranteed_update;

pub type Revision = i64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: Vec<u8>,
    /// The revision of the last write to this key (for a deleted key: the revision of the delete).
    pub mod_revision: Revision,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListResult {
    pub items: Vec<KeyValue>,
    /// The store revision the list was read at.
    pub revision: Revision,
    /// True when `limit` cut the list short.
    pub more: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Put,
    Delete,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageEvent {
    pub kind: EventKind,
    pub key: String,
    /// The new value of a Put; empty for a Delete.
    pub value: Vec<u8>,
    /// The value before this event, if the key existed.
    pub prev_value: Option<Vec<u8>>,
    pub revision: Revision,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum StorageError {
    #[error("key {key} not found")]
    NotFound { key: String },
    #[error("key {key} already exists")]
    AlreadyExists { key: String },
    #[error("key {key} was modified: expected revision {expected}, found {actual}")]
    Conflict { key: String, expected: Revision, actual: Revision },
    #[error("revision {requested} has been compacted (oldest available: {compacted})")]
    Compacted { requested: Revision, compacted: Revision },
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

pub type Result<T> = std::result::Result<T, StorageError>;

#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// Creates `key`; fails with AlreadyExists if it exists. Returns the new mod revision.
    async fn create(&self, key: &str, value: Vec<u8>) -> Result<Revision>;

    /// Creates `key` only while `parent` exists, in one atomic step: NotFound
    /// naming `parent` if it is missing (an object in a deleted namespace must
    /// never be stored), AlreadyExists if `key` exists.
    async fn create_in(&self, parent: &str, key: &str, value: Vec<u8>) -> Result<Revision>;

    /// Fails with NotFound.
    async fn get(&self, key: &str) -> Result<KeyValue>;

    /// Keys starting with `prefix`, in key order, from `start_key` (inclusive,
    /// `None` = from the prefix), at most `limit` (0 = all), read at `revision`
    /// (0 = latest; a compacted revision fails with Compacted).
    async fn list(&self, prefix: &str, start_key: Option<&str>, limit: i64, revision: Revision) -> Result<ListResult>;

    /// Replaces `key` only if its mod revision is still `expected_revision`
    /// (Conflict otherwise, NotFound if missing). Returns the new mod revision.
    async fn update(&self, key: &str, value: Vec<u8>, expected_revision: Revision) -> Result<Revision>;

    /// Deletes `key`, only if its mod revision is `expected_revision` when given.
    /// Returns the deleted value with `mod_revision` = the revision of the delete.
    async fn delete(&self, key: &str, expected_revision: Option<Revision>) -> Result<KeyValue>;

    /// Events for keys under `prefix` with revision >= `from_revision`, in
    /// order, with no gaps. A compacted `from_revision` fails with Compacted
    /// (either at once or as the stream's first item).
    async fn watch(&self, prefix: &str, from_revision: Revision) -> Result<BoxStream<'static, Result<StorageEvent>>>;

    /// The store's current revision.
    async fn current_revision(&self) -> Result<Revision>;

    /// Discards history before `revision`.
    async fn compact(&self, revision: Revision) -> Result<()>;
}
