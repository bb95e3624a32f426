//! rk-controller-manager: the control loops that keep the cluster as declared.
//! Each controller is one module with a `start(&ControllerContext)` that runs
//! its informers and workers in the background.

pub mod context;
pub mod endpoints;
pub mod garbage_collector;
pub mod namespace;
pub mod node_ipam;
pub mod node_lifecycle;
pub mod replication;

pub use context::{ControllerContext, Settings};

/// Starts every controller; fails only on settings that cannot work (a bad cluster CIDR).
pub fn start_all(ctx: &ControllerContext) -> Result<(), node_ipam::IpamError> {
    replication::start(ctx);
    endpoints::start(ctx);
    garbage_collector::start(ctx);
    namespace::start(ctx);
    node_lifecycle::start(ctx);
    node_ipam::start(ctx)
}
