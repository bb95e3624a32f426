//! Keys of the groups whose pods should spread across nodes (a controller or
//! a Service, by uid), hashed once per pod so that scoring a node costs an
//! integer lookup rather than hashing a string per node. Two uids with the
//! same 64-bit hash would only blur spreading, never placement's correctness.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpreadKey(u64);

impl SpreadKey {
    pub fn of(uid: &str) -> SpreadKey {
        let mut hasher = DefaultHasher::new();
        uid.hash(&mut hasher);
        SpreadKey(hasher.finish())
    }
}

/// Pods per spread key.
pub type SpreadCounts = HashMap<SpreadKey, u32, BuildHasherDefault<PassThrough>>;

/// A [`SpreadKey`] is a hash already: use it as it is.
#[derive(Default)]
pub struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}
