//! Chunk digests per file, kept between manifests so that a repeated manifest
//! (the final pass of a move) rehashes only the files that changed.
//!
//! An entry is keyed by the file's path and stamped with its size, mtime,
//! ctime, inode and device. On the source, where containers write, an entry
//! is only trusted when the file's times were at least [`RACY_WINDOW`] older
//! than the moment it was hashed: a write in the same timestamp tick as the
//! hashing would otherwise leave the stamp unchanged (git's "racy clean"
//! problem). On the target the pull itself is the only writer and records
//! what it wrote ([`HashCache::trusting`]).

use rk_proto::streaming::ChunkDigest;
use std::collections::HashMap;
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How much older than its hashing a file's mtime and ctime must be for the
/// digests to be reused.
pub const RACY_WINDOW: Duration = Duration::from_secs(1);

/// What identifies one version of a file's content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    ino: u64,
    dev: u64,
}

impl Stamp {
    pub fn of(metadata: &Metadata) -> Stamp {
        let ns = |secs: i64, nanos: i64| i128::from(secs) * 1_000_000_000 + i128::from(nanos);
        Stamp {
            size: metadata.len(),
            mtime_ns: ns(metadata.mtime(), metadata.mtime_nsec()),
            ctime_ns: ns(metadata.ctime(), metadata.ctime_nsec()),
            ino: metadata.ino(),
            dev: metadata.dev(),
        }
    }

    fn latest_change_ns(&self) -> i128 {
        self.mtime_ns.max(self.ctime_ns)
    }
}

struct Entry {
    stamp: Stamp,
    chunks: Arc<Vec<ChunkDigest>>,
}

/// Chunk digests by file path; shareable between threads.
#[derive(Default)]
pub struct HashCache {
    entries: Mutex<HashMap<PathBuf, Entry>>,
    trust_recent: bool,
}

impl HashCache {
    /// For a directory others write to: recent files are not cached.
    pub fn new() -> HashCache {
        HashCache::default()
    }

    /// For a directory only its owner writes to (a pull's staging directory).
    pub fn trusting() -> HashCache {
        HashCache { trust_recent: true, ..HashCache::default() }
    }

    /// The digests of `path` if they were taken of this very version.
    pub fn get(&self, path: &Path, stamp: &Stamp) -> Option<Arc<Vec<ChunkDigest>>> {
        let entries = self.entries.lock().unwrap();
        entries.get(path).filter(|entry| entry.stamp == *stamp).map(|entry| Arc::clone(&entry.chunks))
    }

    /// Remembers the digests of `path` taken at `hashed_at` (see the module doc).
    pub fn insert(&self, path: &Path, stamp: Stamp, hashed_at: SystemTime, chunks: Arc<Vec<ChunkDigest>>) {
        let hashed_ns = hashed_at.duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as i128).unwrap_or(0);
        let settled = stamp.latest_change_ns() + RACY_WINDOW.as_nanos() as i128 <= hashed_ns;
        if self.trust_recent || settled {
            self.entries.lock().unwrap().insert(path.to_path_buf(), Entry { stamp, chunks });
        } else {
            self.forget(path);
        }
    }

    /// Drops what is known of `path` (before it is modified).
    pub fn forget(&self, path: &Path) {
        self.entries.lock().unwrap().remove(path);
    }

    /// Drops everything under `dir` (after it was moved away or deleted).
    pub fn forget_under(&self, dir: &Path) {
        self.entries.lock().unwrap().retain(|path, _| !path.starts_with(dir));
    }

    pub fn len(&self) -> usize {
        self.entries.lock().unwrap().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_files_are_not_trusted_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"x").unwrap();
        let stamp = Stamp::of(&std::fs::metadata(&path).unwrap());
        let chunks = Arc::new(vec![ChunkDigest { index: 0, hash: vec![1; 32], zero: false }]);

        let cache = HashCache::new();
        cache.insert(&path, stamp, SystemTime::now(), chunks.clone());
        assert!(cache.get(&path, &stamp).is_none(), "hashed in the same second as written");
        cache.insert(&path, stamp, SystemTime::now() + Duration::from_secs(2), chunks.clone());
        assert!(cache.get(&path, &stamp).is_some());

        let trusting = HashCache::trusting();
        trusting.insert(&path, stamp, SystemTime::now(), chunks);
        assert!(trusting.get(&path, &stamp).is_some());
        std::fs::write(&path, b"yy").unwrap();
        let changed = Stamp::of(&std::fs::metadata(&path).unwrap());
        assert!(trusting.get(&path, &changed).is_none());
    }
}
