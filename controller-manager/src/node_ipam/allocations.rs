//! Which node holds which block. Kept in memory and rebuilt from the nodes'
//! spec.podCIDR at start-up: the Node objects are the record, this is an index.

use super::blocks::NodeBlocks;
use super::cidr::Ipv4Cidr;
use std::collections::HashMap;

/// Why a node's existing podCIDR could not be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimError {
    /// Not one of the cluster CIDR's node blocks (another range or another size).
    OutsideRange,
    /// Another node already holds the block.
    HeldBy(String),
}

#[derive(Debug)]
pub struct Allocations {
    blocks: NodeBlocks,
    owner_of: HashMap<u64, String>,
    block_of: HashMap<String, u64>,
    /// Where the search for a free block starts: just after the last one handed
    /// out, so a released block is reused only after the others, when routes to
    /// it from its old node are long gone.
    next: u64,
}

impl Allocations {
    pub fn new(blocks: NodeBlocks) -> Self {
        Allocations { blocks, owner_of: HashMap::new(), block_of: HashMap::new(), next: 0 }
    }

    pub fn blocks(&self) -> &NodeBlocks {
        &self.blocks
    }

    /// Records that `node` uses `cidr` (its spec says so). A block the node
    /// held before, reserved but never written, is given back.
    pub fn claim(&mut self, node: &str, cidr: &Ipv4Cidr) -> Result<(), ClaimError> {
        let index = self.blocks.index_of(cidr).ok_or(ClaimError::OutsideRange)?;
        match self.owner_of.get(&index) {
            Some(owner) if owner == node => return Ok(()),
            Some(owner) => return Err(ClaimError::HeldBy(owner.clone())),
            None => {}
        }
        self.release(node);
        self.owner_of.insert(index, node.to_string());
        self.block_of.insert(node.to_string(), index);
        Ok(())
    }

    /// The block reserved for `node`: the one it already has, or the next free
    /// one. None when every block is taken.
    pub fn allocate(&mut self, node: &str) -> Option<Ipv4Cidr> {
        if let Some(index) = self.block_of.get(node) {
            return Some(self.blocks.block(*index));
        }
        let count = self.blocks.count();
        let index = (0..count).map(|offset| (self.next + offset) % count).find(|i| !self.owner_of.contains_key(i))?;
        self.owner_of.insert(index, node.to_string());
        self.block_of.insert(node.to_string(), index);
        self.next = (index + 1) % count;
        Some(self.blocks.block(index))
    }

    /// Frees the block of a node that is gone.
    pub fn release(&mut self, node: &str) -> Option<Ipv4Cidr> {
        let index = self.block_of.remove(node)?;
        self.owner_of.remove(&index);
        Some(self.blocks.block(index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allocations(cluster: &str, mask: u8) -> Allocations {
        Allocations::new(NodeBlocks::new(cluster, mask).unwrap())
    }

    fn cidr(text: &str) -> Ipv4Cidr {
        text.parse().unwrap()
    }

    #[test]
    fn every_node_gets_a_distinct_block_and_keeps_it() {
        let mut table = allocations("10.244.0.0/16", 24);
        assert_eq!(table.allocate("a"), Some(cidr("10.244.0.0/24")));
        assert_eq!(table.allocate("b"), Some(cidr("10.244.1.0/24")));
        assert_eq!(table.allocate("a"), Some(cidr("10.244.0.0/24")), "asking again gives the same block");
        assert_eq!(table.allocate("c"), Some(cidr("10.244.2.0/24")));
    }

    #[test]
    fn claimed_blocks_are_never_handed_out() {
        let mut table = allocations("10.244.0.0/16", 24);
        table.claim("old", &cidr("10.244.0.0/24")).unwrap();
        table.claim("older", &cidr("10.244.1.0/24")).unwrap();
        assert_eq!(table.allocate("new"), Some(cidr("10.244.2.0/24")));
        assert_eq!(table.claim("old", &cidr("10.244.0.0/24")), Ok(()), "claiming again is harmless");
    }

    #[test]
    fn claims_outside_the_range_or_of_a_held_block_are_refused() {
        let mut table = allocations("10.244.0.0/16", 24);
        table.claim("a", &cidr("10.244.5.0/24")).unwrap();
        assert_eq!(table.claim("b", &cidr("10.244.5.0/24")), Err(ClaimError::HeldBy("a".into())));
        assert_eq!(table.claim("b", &cidr("10.99.0.0/24")), Err(ClaimError::OutsideRange));
        assert_eq!(table.claim("b", &cidr("10.244.6.0/25")), Err(ClaimError::OutsideRange));
    }

    #[test]
    fn a_claim_replaces_a_reservation_the_node_never_got() {
        let mut table = allocations("10.244.0.0/16", 24);
        assert_eq!(table.allocate("a"), Some(cidr("10.244.0.0/24")));
        table.claim("a", &cidr("10.244.9.0/24")).unwrap();
        assert_eq!(table.release("a"), Some(cidr("10.244.9.0/24")));
        table.claim("b", &cidr("10.244.0.0/24")).expect("the reservation was given back");
    }

    #[test]
    fn exhaustion_and_reuse_after_release() {
        let mut table = allocations("10.0.0.0/30", 31);
        assert_eq!(table.allocate("a"), Some(cidr("10.0.0.0/31")));
        assert_eq!(table.allocate("b"), Some(cidr("10.0.0.2/31")));
        assert_eq!(table.allocate("c"), None);
        assert_eq!(table.release("a"), Some(cidr("10.0.0.0/31")));
        assert_eq!(table.release("a"), None);
        assert_eq!(table.allocate("c"), Some(cidr("10.0.0.0/31")));
    }

    #[test]
    fn released_blocks_are_reused_last() {
        let mut table = allocations("10.244.0.0/16", 24);
        table.allocate("a");
        table.allocate("b");
        table.release("a");
        assert_eq!(table.allocate("c"), Some(cidr("10.244.2.0/24")));
    }
}
