//! What can be wrong with the node IPAM settings.

/// A bad `--cluster-cidr` or `--node-cidr-mask-size`; the message names the flag and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpamError {
    #[error("--cluster-cidr {0:?} is not an IPv4 CIDR like 10.244.0.0/16")]
    NotACidr(String),
    #[error("--cluster-cidr {given} has bits set after its prefix; the network is {network}")]
    HostBitsSet { given: String, network: String },
    #[error(
        "--node-cidr-mask-size {mask} must be longer than the /{prefix} of --cluster-cidr (at most 32), \
         so that the cluster CIDR splits into several node blocks"
    )]
    MaskSize { mask: u8, prefix: u8 },
}
