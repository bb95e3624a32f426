//! The nftables mode: one table of rk's own (`ip <prefix in lower case>`),
//! kept apart from Docker's and everyone else's tables.
//!
//! [`ruleset::fragment`] is pure (one service port in, its chains, map
//! elements and sets out); [`state::State`] keeps the fragments between
//! syncs and rebuilds only the ports that changed; [`script`] turns the
//! whole table or only the change into one `nft -f` transaction (atomic);
//! [`applier`] is the seam to `nft`; [`NftDataplane`] ties them together.
//!
//! Dispatch is O(1) per packet and the payload stays near one statement per
//! service: a verdict map from `daddr . proto . dport` to the service's
//! chain, which picks an endpoint with one `numgen random mod N offset B`
//! lookup in a shared endpoint map (the service owns slots B..B+N). Sets
//! and maps are few and shared because the kernel looks sets up by name
//! linearly and walks a map's bindings per element: one set per service
//! makes a 10,000-service sync quadratic.

pub mod applier;
pub mod blocks;
pub mod dataplane;
pub mod ruleset;
pub mod script;
pub mod state;

pub use dataplane::NftDataplane;
