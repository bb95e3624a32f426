//! rk-proxy: turns Services and Endpoints into iptables or nftables rules on a node.
//!
//! [`rules::build`] is pure (state in, chains out); [`payload::render`]
//! turns the difference to the last applied chains into one
//! `iptables-restore` text; [`nft`] does the same for one nftables table.
//! [`applier`], [`nft::applier`] and [`host`] are the seams to the kernel;
//! [`dataplane`] picks the mode; [`proxier::Proxier`] ties them together per sync.

pub mod applier;
pub mod chains;
pub mod command;
pub mod dataplane;
pub mod error;
pub mod host;
pub mod metrics;
pub mod model;
pub mod nft;
pub mod payload;
pub mod proxier;
pub mod rules;
pub mod sync_loop;

pub use error::ProxyError;
