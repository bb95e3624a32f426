//! The endpoints controller: for each Service with a selector, an Endpoints
//! object of the same name lists the selected pods' IPs (ready ones in
//! `addresses`, the rest in `notReadyAddresses`) with the Service's ports
//! resolved per pod. Services without a selector are left to whoever writes
//! their Endpoints. A deleted Service's Endpoints are deleted.

mod controller;
mod handlers;
mod selection;
mod subsets;

use crate::ControllerContext;
use controller::EndpointsController;
use rk_client::{object_key, run_controller, Informer, WorkQueue};
use rk_proto::v1::{Endpoints, ListOptions, Pod, Service};
use rk_proto::Resource;
use std::sync::Arc;

/// Services reconciled at once.
const WORKERS: usize = 5;

/// Starts informers for Services, pods and Endpoints, and the workers once all have listed.
pub fn start(ctx: &ControllerContext) {
    let queue = Arc::new(WorkQueue::new());
    let services = Informer::<Service>::new(ctx.client.clone(), ListOptions::default())
        .resync_every(ctx.settings.resync)
        .enqueue_into(&queue)
        .start();
    let pods = Informer::<Pod>::new(ctx.client.clone(), ListOptions::default())
        .on_change(handlers::pod_changed(Arc::clone(&queue), Arc::clone(&services.store)))
        .start();
    let endpoints = Informer::<Endpoints>::new(ctx.client.clone(), ListOptions::default())
        .on_change(handlers::endpoints_changed(Arc::clone(&queue), Arc::clone(&services.store)))
        .start();
    let controller = EndpointsController::new(
        ctx.client.clone(),
        Arc::clone(&services.store),
        Arc::clone(&pods.store),
        Arc::clone(&endpoints.store),
    );
    tokio::spawn(async move {
        services.wait_synced().await;
        pods.wait_synced().await;
        endpoints.wait_synced().await;
        // Endpoints whose Service was deleted while no controller ran.
        for leftover in endpoints.store.list() {
            let key = object_key(leftover.metadata());
            if services.store.get(&key).is_none() {
                queue.add(&key);
            }
        }
        run_controller(queue, Arc::new(controller), WORKERS).await;
    });
}
