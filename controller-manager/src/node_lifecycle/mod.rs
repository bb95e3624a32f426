//! Node lifecycle: a node whose kubelet stops heartbeating for
//! `--node-monitor-grace-period` gets its conditions set to Unknown; a node
//! not ready for `--pod-eviction-timeout` loses its pods, so their
//! controllers recreate them on other nodes. Until then its pods are marked
//! not ready, so Services stop sending them traffic. A node that comes back is the
//! kubelet's to report; this controller records NodeReady when it sees that.
//!
//! Each node is looked at when it changes and again when its next deadline
//! passes (`Action::RequeueAfter`), not by polling every node all the time.

mod conditions;
mod controller;
mod eviction;
mod pods_not_ready;
mod readiness;
mod verdict;

use crate::ControllerContext;
use controller::NodeLifecycle;
use rk_client::clock::SystemClock;
use rk_client::{run_controller, Informer, WorkQueue};
use rk_proto::v1::{ListOptions, Node};
use std::sync::Arc;
use verdict::Timeouts;

/// Most reconciles only compute a deadline; evictions wait on the apiserver.
const WORKERS: usize = 4;

/// Runs the controller in the background.
pub fn start(ctx: &ControllerContext) {
    let queue = Arc::new(WorkQueue::new());
    let nodes = Informer::<Node>::new(ctx.client.clone(), ListOptions::default())
        .resync_every(ctx.settings.resync)
        .enqueue_into(&queue)
        .start();
    let controller = NodeLifecycle {
        client: ctx.client.clone(),
        recorder: ctx.recorder("node-controller"),
        nodes: nodes.store,
        clock: Arc::new(SystemClock),
        timeouts: Timeouts {
            grace: ctx.settings.node_monitor_grace_period,
            eviction: ctx.settings.pod_eviction_timeout,
        },
        readiness: Default::default(),
    };
    tokio::spawn(run_controller(queue, Arc::new(controller), WORKERS));
}
