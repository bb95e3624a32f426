//! rk-controller-manager: the control loops that keep the cluster as declared.
//! Each controller is one module with a `start(&ControllerContext)` that runs
//! its informers and workers in the background.

pub mod context;
pub mod datasets;
pub mod endpoints;
pub mod garbage_collector;
pub mod load_balancer;
pub mod namespace;
pub mod node_ipam;
pub mod node_lifecycle;
pub mod replication;

pub use context::{ControllerContext, Settings};

/// Settings that cannot work, found when the controllers start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    NodeIpam(#[from] node_ipam::IpamError),
    #[error(transparent)]
    LoadBalancer(#[from] rk_proto::ip_range::IpRangeError),
}

/// Starts every controller; fails only on settings that cannot work (a bad cluster CIDR or load-balancer range).
pub fn start_all(ctx: &ControllerContext) -> Result<(), StartError> {
    replication::start(ctx);
    datasets::start(ctx);
    endpoints::start(ctx);
    garbage_collector::start(ctx);
    namespace::start(ctx);
    node_lifecycle::start(ctx);
    load_balancer::start(ctx)?;
    node_ipam::start(ctx)?;
    Ok(())
}
