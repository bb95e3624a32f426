//! In-memory implementation of [`super::Storage`] for fast unit tests.
//!
//! It keeps every version of every key since the last compaction (like etcd's
//! MVCC store) so lists can read old revisions, plus an event log that
//! watchers read from; a `tokio::sync::watch` channel only tells watchers that
//! the revision moved, so a slow watcher never misses an event.

use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use tokio::sync::watch;

use super::{EventKind, KeyValue, ListResult, Result, Revision, Storage, StorageError, StorageEvent};

/// A thread-safe in-memory store with etcd's revision, CAS and watch semantics.
pub struct MemoryStorage {
    state: Arc<Mutex<State>>,
    /// The current revision, published after every write.
    revision_tx: watch::Sender<Revision>,
}

/// One write of a key; `value: None` is a delete (a tombstone).
#[derive(Debug)]
struct Version {
    revision: Revision,
    value: Option<Vec<u8>>,
}

#[derive(Debug, Default)]
struct State {
    revision: Revision,
    /// Reads at revisions below this fail with Compacted.
    compacted: Revision,
    /// Per key, its versions since the compaction in revision order.
    versions: BTreeMap<String, Vec<Version>>,
    /// Every event since the compaction, in revision order (one per revision).
    log: VecDeque<StorageEvent>,
}

impl MemoryStorage {
    pub fn new() -> Self {
        Self { state: Arc::default(), revision_tx: watch::Sender::new(0) }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Applies a write under the lock held by `state` and wakes the watchers.
    fn commit(&self, mut state: MutexGuard<'_, State>, key: &str, value: Option<Vec<u8>>) -> Revision {
        let revision = state.apply(key, value);
        drop(state);
        self.revision_tx.send_replace(revision);
        revision
    }
}

impl Default for MemoryStorage {
    fn default() -> Self {
        Self::new()
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // State is only changed by short code that does not panic, so a lock
    // poisoned by a panic elsewhere in a holder still guards a consistent State.
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl State {
    /// The latest live version of `key` at `revision`, as (value, mod revision).
    fn read(&self, key: &str, revision: Revision) -> Option<(&Vec<u8>, Revision)> {
        let version = self.versions.get(key)?.iter().rev().find(|v| v.revision <= revision)?;
        version.value.as_ref().map(|value| (value, version.revision))
    }

    fn current(&self, key: &str) -> Option<(&Vec<u8>, Revision)> {
        self.read(key, self.revision)
    }

    fn check_not_compacted(&self, requested: Revision) -> Result<()> {
        if requested < self.compacted {
            return Err(StorageError::Compacted { requested, compacted: self.compacted });
        }
        Ok(())
    }

    fn apply(&mut self, key: &str, value: Option<Vec<u8>>) -> Revision {
        let prev_value = self.current(key).map(|(value, _)| value.clone());
        self.revision += 1;
        let revision = self.revision;
        let kind = if value.is_some() { EventKind::Put } else { EventKind::Delete };
        self.log.push_back(StorageEvent {
            kind,
            key: key.to_owned(),
            value: value.clone().unwrap_or_default(),
            prev_value,
            revision,
        });
        self.versions.entry(key.to_owned()).or_default().push(Version { revision, value });
        revision
    }

    /// Drops every version that no read at `revision` or later can see.
    fn compact(&mut self, revision: Revision) {
        self.compacted = revision;
        self.versions.retain(|_, versions| {
            let visible_from = versions.iter().rposition(|v| v.revision <= revision).unwrap_or(0);
            versions.drain(..visible_from);
            if versions.first().is_some_and(|v| v.revision <= revision && v.value.is_none()) {
                versions.remove(0);
            }
            !versions.is_empty()
        });
        let kept_from = self.log.partition_point(|event| event.revision < revision);
        self.log.drain(..kept_from);
    }

    /// The logged events under `prefix` with revision >= `from`.
    fn events_since(&self, prefix: &str, from: Revision) -> Result<Vec<StorageEvent>> {
        self.check_not_compacted(from)?;
        let start = self.log.partition_point(|event| event.revision < from);
        Ok(self.log.range(start..).filter(|event| event.key.starts_with(prefix)).cloned().collect())
    }
}

#[async_trait]
impl Storage for MemoryStorage {
    async fn create(&self, key: &str, value: Vec<u8>) -> Result<Revision> {
        let state = self.lock();
        if state.current(key).is_some() {
            return Err(StorageError::AlreadyExists { key: key.to_owned() });
        }
        Ok(self.commit(state, key, Some(value)))
    }

    async fn create_in(&self, parent: &str, key: &str, value: Vec<u8>) -> Result<Revision> {
        let state = self.lock();
        if state.current(parent).is_none() {
            return Err(not_found(parent));
        }
        if state.current(key).is_some() {
            return Err(StorageError::AlreadyExists { key: key.to_owned() });
        }
        Ok(self.commit(state, key, Some(value)))
    }

    async fn get(&self, key: &str) -> Result<KeyValue> {
        let state = self.lock();
        let (value, mod_revision) = state.current(key).ok_or_else(|| not_found(key))?;
        Ok(KeyValue { key: key.to_owned(), value: value.clone(), mod_revision })
    }

    async fn list(&self, prefix: &str, start_key: Option<&str>, limit: i64, revision: Revision) -> Result<ListResult> {
        let state = self.lock();
        let read_at = if revision > 0 { revision } else { state.revision };
        state.check_not_compacted(read_at)?;
        if read_at > state.revision {
            return Err(StorageError::Unavailable(format!("revision {read_at} is a future revision")));
        }
        let start = start_key.filter(|start| *start > prefix).unwrap_or(prefix);
        let mut live = state
            .versions
            .range::<str, _>((Bound::Included(start), Bound::Unbounded))
            .take_while(|(key, _)| key.starts_with(prefix))
            .filter_map(|(key, _)| {
                let (value, mod_revision) = state.read(key, read_at)?;
                Some(KeyValue { key: key.clone(), value: value.clone(), mod_revision })
            });
        let items: Vec<KeyValue> = match usize::try_from(limit) {
            Ok(limit) if limit > 0 => live.by_ref().take(limit).collect(),
            _ => live.by_ref().collect(),
        };
        let more = live.next().is_some();
        Ok(ListResult { items, revision: read_at, more })
    }

    async fn update(&self, key: &str, value: Vec<u8>, expected_revision: Revision) -> Result<Revision> {
        let state = self.lock();
        let (_, actual) = state.current(key).ok_or_else(|| not_found(key))?;
        if actual != expected_revision {
            return Err(StorageError::Conflict { key: key.to_owned(), expected: expected_revision, actual });
        }
        Ok(self.commit(state, key, Some(value)))
    }

    async fn delete(&self, key: &str, expected_revision: Option<Revision>) -> Result<KeyValue> {
        let state = self.lock();
        let (value, actual) = state.current(key).ok_or_else(|| not_found(key))?;
        if let Some(expected) = expected_revision.filter(|expected| *expected != actual) {
            return Err(StorageError::Conflict { key: key.to_owned(), expected, actual });
        }
        let value = value.clone();
        let mod_revision = self.commit(state, key, None);
        Ok(KeyValue { key: key.to_owned(), value, mod_revision })
    }

    async fn watch(&self, prefix: &str, from_revision: Revision) -> Result<BoxStream<'static, Result<StorageEvent>>> {
        let next = {
            let state = self.lock();
            let next = if from_revision > 0 { from_revision } else { state.revision + 1 };
            state.check_not_compacted(next)?;
            next
        };
        let watcher = Watcher {
            state: self.state.clone(),
            revision_rx: self.revision_tx.subscribe(),
            prefix: prefix.to_owned(),
            next,
        };
        // try_unfold ends the stream after the first error.
        let batches = stream::try_unfold(watcher, |mut watcher| async move {
            let batch = watcher.next_batch().await?;
            Ok(Some((batch, watcher)))
        });
        Ok(batches.map_ok(|batch| stream::iter(batch.into_iter().map(Ok))).try_flatten().boxed())
    }

    async fn current_revision(&self) -> Result<Revision> {
        Ok(self.lock().revision)
    }

    async fn compact(&self, revision: Revision) -> Result<()> {
        let mut state = self.lock();
        state.check_not_compacted(revision)?;
        if revision > state.revision {
            return Err(StorageError::Unavailable(format!("revision {revision} is a future revision")));
        }
        state.compact(revision);
        Ok(())
    }
}

/// One watch: reads the log from `next` whenever the revision moves.
struct Watcher {
    state: Arc<Mutex<State>>,
    revision_rx: watch::Receiver<Revision>,
    prefix: String,
    /// The first revision not yet delivered.
    next: Revision,
}

impl Watcher {
    /// Waits for and returns the next non-empty batch of events.
    async fn next_batch(&mut self) -> Result<Vec<StorageEvent>> {
        loop {
            // Mark the published revision seen before reading the log, so a
            // write landing in between still wakes the next `changed()`.
            self.revision_rx.borrow_and_update();
            let (events, latest) = {
                let state = lock(&self.state);
                (state.events_since(&self.prefix, self.next)?, state.revision)
            };
            self.next = self.next.max(latest + 1);
            if !events.is_empty() {
                return Ok(events);
            }
            if self.revision_rx.changed().await.is_err() {
                return Err(StorageError::Unavailable("memory storage was dropped".into()));
            }
        }
    }
}

fn not_found(key: &str) -> StorageError {
    StorageError::NotFound { key: key.to_owned() }
}
