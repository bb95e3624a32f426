//! The cluster CIDR cut into equal node blocks: 10.244.0.0/16 at /24 is
//! 10.244.0.0/24, 10.244.1.0/24, … 10.244.255.0/24, numbered from 0.

use super::cidr::Ipv4Cidr;
use super::error::IpamError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeBlocks {
    cluster: Ipv4Cidr,
    mask: u8,
}

impl NodeBlocks {
    /// Validates the settings: a CIDR, and a mask size that splits it into at least two blocks.
    pub fn new(cluster_cidr: &str, mask: u8) -> Result<Self, IpamError> {
        let cluster: Ipv4Cidr = cluster_cidr.parse()?;
        if mask <= cluster.prefix() || mask > 32 {
            return Err(IpamError::MaskSize { mask, prefix: cluster.prefix() });
        }
        Ok(NodeBlocks { cluster, mask })
    }

    pub fn cluster(&self) -> Ipv4Cidr {
        self.cluster
    }

    pub fn mask(&self) -> u8 {
        self.mask
    }

    /// How many blocks there are.
    pub fn count(&self) -> u64 {
        1 << (self.mask - self.cluster.prefix())
    }

    /// Block number `index` (below [`count`](Self::count)).
    pub fn block(&self, index: u64) -> Ipv4Cidr {
        debug_assert!(index < self.count());
        Ipv4Cidr::new(self.cluster.network() + ((index as u32) << (32 - self.mask)), self.mask)
    }

    /// The number of `cidr`, if it is one of the blocks.
    pub fn index_of(&self, cidr: &Ipv4Cidr) -> Option<u64> {
        (cidr.prefix() == self.mask && self.cluster.contains(cidr))
            .then(|| u64::from((cidr.network() - self.cluster.network()) >> (32 - self.mask)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(text: &str) -> Ipv4Cidr {
        text.parse().unwrap()
    }

    #[test]
    fn splits_the_cluster_cidr_in_order() {
        let blocks = NodeBlocks::new("10.244.0.0/16", 24).unwrap();
        assert_eq!(blocks.count(), 256);
        assert_eq!(blocks.block(0), cidr("10.244.0.0/24"));
        assert_eq!(blocks.block(1), cidr("10.244.1.0/24"));
        assert_eq!(blocks.block(255), cidr("10.244.255.0/24"));
        for index in [0, 1, 77, 255] {
            assert_eq!(blocks.index_of(&blocks.block(index)), Some(index));
        }
    }

    #[test]
    fn small_blocks_and_the_whole_address_space() {
        let blocks = NodeBlocks::new("10.0.0.0/29", 30).unwrap();
        assert_eq!((blocks.count(), blocks.block(1)), (2, cidr("10.0.0.4/30")));
        let everything = NodeBlocks::new("0.0.0.0/0", 32).unwrap();
        assert_eq!(everything.count(), 1 << 32);
        assert_eq!(everything.block((1 << 32) - 1), cidr("255.255.255.255/32"));
    }

    #[test]
    fn only_blocks_of_the_range_have_a_number() {
        let blocks = NodeBlocks::new("10.244.0.0/16", 24).unwrap();
        assert_eq!(blocks.index_of(&cidr("10.245.0.0/24")), None);
        assert_eq!(blocks.index_of(&cidr("10.244.0.0/25")), None);
        assert_eq!(blocks.index_of(&cidr("10.244.0.0/16")), None);
    }

    #[test]
    fn rejects_bad_settings_with_a_clear_message() {
        let error = NodeBlocks::new("10.244.0.0/16", 16).unwrap_err();
        assert_eq!(error, IpamError::MaskSize { mask: 16, prefix: 16 });
        assert!(error.to_string().contains("--node-cidr-mask-size 16 must be longer than the /16"));
        assert_eq!(NodeBlocks::new("10.244.0.0/16", 33).unwrap_err(), IpamError::MaskSize { mask: 33, prefix: 16 });
        assert_eq!(NodeBlocks::new("10.244.0.0/16", 8).unwrap_err(), IpamError::MaskSize { mask: 8, prefix: 16 });
        assert!(NodeBlocks::new("10.244.0.0/99", 24)
            .unwrap_err()
            .to_string()
            .contains("--cluster-cidr \"10.244.0.0/99\""));
    }
}
