//! Datasets (issue 8): data that lives on one node at a time and follows its
//! pod. This controller decides where a dataset should be and says so in its
//! status; the kubelets do the rest (make the directory, move the data, flip
//! `status.node` once the data is complete on the new node).
//!
//! - `desired`: spec.primary, else the node of its oldest bound pod, else where it is;
//! - `verdict`: placement (Pending), Moving, Unavailable, and pods to delete
//!   when they sit away from spec.primary (their controllers recreate them there);
//! - `controller`: applies the verdict; `handlers`: pods and nodes queue their datasets.

mod controller;
mod desired;
mod handlers;
mod users;
mod verdict;

use crate::ControllerContext;
use controller::DatasetController;
use rk_client::{run_controller, Informer, WorkQueue};
use rk_proto::v1::{Dataset, ListOptions, Node, Pod};
use std::sync::Arc;

const WORKERS: usize = 2;

/// Runs the controller in the background.
pub fn start(ctx: &ControllerContext) {
    let queue = Arc::new(WorkQueue::new());
    let datasets = Informer::<Dataset>::new(ctx.client.clone(), ListOptions::default())
        .resync_every(ctx.settings.resync)
        .enqueue_into(&queue)
        .start();
    let pods = Informer::<Pod>::new(ctx.client.clone(), ListOptions::default())
        .on_change(handlers::pod_changed(Arc::clone(&queue)))
        .start();
    let nodes = Informer::<Node>::new(ctx.client.clone(), ListOptions::default())
        .on_change(handlers::node_changed(Arc::clone(&queue), Arc::clone(&datasets.store)))
        .start();
    let controller = DatasetController {
        client: ctx.client.clone(),
        recorder: ctx.recorder("dataset-controller"),
        datasets: Arc::clone(&datasets.store),
        pods: Arc::clone(&pods.store),
        nodes: Arc::clone(&nodes.store),
    };
    tokio::spawn(async move {
        // A dataset's users and nodes must be known before deciding anything about it.
        tokio::join!(datasets.wait_synced(), pods.wait_synced(), nodes.wait_synced());
        run_controller(queue, Arc::new(controller), WORKERS).await;
    });
}
