//! Blocks of endpoint slots in the shared endpoint maps: a service port
//! keeps its block while it has endpoints, and the lowest free block goes to
//! the next one that needs a block, so the maps stay dense.

use std::collections::BTreeSet;

#[derive(Debug, Clone, Default)]
pub struct Blocks {
    /// Blocks given back below `next`.
    free: BTreeSet<u32>,
    /// The lowest block never handed out.
    next: u32,
}

impl Blocks {
    pub fn take(&mut self) -> u32 {
        self.free.pop_first().unwrap_or_else(|| {
            self.next += 1;
            self.next - 1
        })
    }

    pub fn release(&mut self, block: u32) {
        self.free.insert(block);
    }
}
