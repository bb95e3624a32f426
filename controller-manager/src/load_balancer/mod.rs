//! LoadBalancer addresses, as a bare-metal load-balancer controller (MetalLB)
//! gives them: every Service of type LoadBalancer gets one address of
//! `--load-balancer-ip-range` in status.loadBalancer.ingress, which rk-proxy
//! then serves like an external IP. spec.loadBalancerIP asks for a given
//! address. No two Services share one; a Service that is deleted or stops
//! being a LoadBalancer frees its address (its ingress is cleared).

mod choice;
mod controller;
mod handlers;
mod ingress;
mod owners;
mod recent;

use crate::ControllerContext;
use controller::LoadBalancerController;
use rk_client::{run_controller, Informer, WorkQueue};
use rk_proto::ip_range::{IpRange, IpRangeError};
use rk_proto::v1::{ListOptions, Service};
use std::sync::Arc;

/// 198.18.0.0/15 is reserved for benchmarking (RFC 2544): no real network
/// uses it, nor do Docker's default address pools (172.17–31.0.0/16,
/// 192.168.0.0/16) or rk's pod (10.244.0.0/16) and service (10.96.0.0/16) ranges.
pub const DEFAULT_IP_RANGE: &str = "198.18.255.0/24";

/// One worker: each choice must see the address the previous one gave out.
const WORKERS: usize = 1;

/// Validates the range, then runs the controller in the background.
pub fn start(ctx: &ControllerContext) -> Result<(), IpRangeError> {
    let range: IpRange = ctx.settings.load_balancer_ip_range.parse()?;
    let queue = Arc::new(WorkQueue::new());
    let services = Informer::<Service>::new(ctx.client.clone(), ListOptions::default())
        .resync_every(ctx.settings.resync)
        .enqueue_into(&queue)
        .on_change(handlers::address_freed(Arc::clone(&queue)))
        .start();
    let controller = LoadBalancerController::new(
        ctx.client.clone(),
        ctx.recorder("service-controller"),
        Arc::clone(&services.store),
        range,
    );
    tokio::spawn(async move {
        // Every address in use is known before the first one is given out.
        services.wait_synced().await;
        run_controller(queue, Arc::new(controller), WORKERS).await;
    });
    Ok(())
}
