//! Kubelet-to-kubelet dataset transfer: the `DatasetTransfer` gRPC service
//! (rk.streaming.v1, served on the kubelet's streaming endpoint with the same
//! bearer token) and the pulling side.
//!
//! The source answers `Manifest` with every entry of the dataset's directory
//! and the blake3 digest of each 1 MiB chunk (all-zero chunks only marked,
//! found through SEEK_DATA/SEEK_HOLE or a zero check), `ManifestParts` with
//! the same manifest in parts as it hashes, and `Fetch` with the bytes of the
//! chunks asked for. The target ([`pull`]) compares each part with its
//! staging directory and, while later parts are hashed, fetches only the
//! chunks it lacks, verifies each
//! against the manifest (a mismatch is fetched again), keeps zero chunks as
//! holes, removes what the source no longer has, and finally checks that the
//! manifest digest of its own tree equals the source's. The source is only
//! ever read; a pull cut off at any point leaves a staging directory that the
//! next pull completes.

mod client;
mod hash_cache;
mod key;
mod manifest;
mod paths;
mod pull;
mod service;
mod source;
mod sparse;

pub use client::{connect, with_token, BearerToken, TransferClient};
pub use hash_cache::HashCache;
pub use key::DatasetKey;
pub use manifest::{chunk_count, manifest, manifest_digest};
pub use pull::{pull, pull_with, target_cache, PullError, PullOptions, PullReport};
pub use rk_proto::streaming::{ChunkDigest, DatasetManifest, FileEntry, FileKind};
pub use service::{TransferServer, TransferService};
pub use source::{DatasetSource, RootDirSource};

/// Size of a chunk: the unit of hashing, fetching and hole keeping.
pub const CHUNK_SIZE: u64 = 1 << 20;

/// The largest gRPC message either side accepts: a chunk is 1 MiB plus a few
/// bytes, a manifest about 40 bytes per chunk (64 MiB: a 1.6 TB dataset).
pub const MAX_MESSAGE_SIZE: usize = 64 << 20;
