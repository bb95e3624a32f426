//! Node IPAM: every node gets its own pod CIDR, a block of `--cluster-cidr`
//! of size `--node-cidr-mask-size`, written to spec.podCIDR. A node keeps its
//! block for life (the apiserver refuses to change it); the block is freed
//! when the node is deleted.

mod allocations;
mod blocks;
mod cidr;
mod controller;
mod error;

pub use error::IpamError;

use allocations::Allocations;
use blocks::NodeBlocks;
use controller::NodeIpam;

use crate::ControllerContext;
use rk_client::{run_controller, Informer, WorkQueue};
use rk_proto::v1::{ListOptions, Node};
use std::sync::Arc;

/// Assignments are quick, and serialised by the allocation table anyway.
const WORKERS: usize = 2;

/// Validates the settings, then runs the controller in the background.
pub fn start(ctx: &ControllerContext) -> Result<(), IpamError> {
    let blocks = NodeBlocks::new(&ctx.settings.cluster_cidr, ctx.settings.node_cidr_mask_size)?;
    let queue = Arc::new(WorkQueue::new());
    let nodes = Informer::<Node>::new(ctx.client.clone(), ListOptions::default())
        .resync_every(ctx.settings.resync)
        .enqueue_into(&queue)
        .start();
    let ipam = Arc::new(NodeIpam::new(
        ctx.client.clone(),
        ctx.recorder("cidrAllocator"),
        Arc::clone(&nodes.store),
        Allocations::new(blocks),
    ));
    tokio::spawn(async move {
        nodes.wait_synced().await;
        ipam.claim_existing();
        run_controller(queue, ipam, WORKERS).await;
    });
    Ok(())
}
