//! What can be wrong with `--load-balancer-ip-range`.

/// A bad `--load-balancer-ip-range`; the message names the flag and what it accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadBalancerError {
    #[error(
        "--load-balancer-ip-range {0:?} is neither an IPv4 CIDR like 198.18.255.0/24 \
         nor a range of IPv4 addresses like 198.18.255.10-198.18.255.20"
    )]
    NotARange(String),
    #[error("--load-balancer-ip-range {given} has bits set after its prefix; the network is {network}")]
    HostBitsSet { given: String, network: String },
    #[error("--load-balancer-ip-range {given}: the first address must not come after the last")]
    Reversed { given: String },
}
