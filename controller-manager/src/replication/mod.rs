//! The replication controller: keeps exactly spec.replicas active pods
//! matching each ReplicationController's selector. It creates pods from the
//! template (named `<controller>-<random>`, owned by the controller) in
//! growing batches, adopts matching orphans, releases pods whose labels stop
//! matching, deletes the cheapest pods first when scaling down, and reports
//! status. Expectations keep a slow watch from causing extra pods.
//!
//! Deleting a controller does not delete its pods here: the garbage collector
//! deletes pods whose owner is gone. A controller being deleted is left as it
//! is (no new pods, no adoptions).

mod claim;
mod controller;
mod expectations;
mod handlers;
mod owner;
mod pod_control;
mod pod_state;
mod ranking;
mod slow_start;
mod status;

pub use pod_state::{is_ready, is_terminal};

use crate::ControllerContext;
use controller::ReplicationManager;
use expectations::Expectations;
use handlers::PodChanges;
use pod_control::PodControl;
use rk_client::{run_controller, Client, Informer, WorkQueue};
use rk_proto::v1::{ListOptions, Pod, ReplicationController};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub struct Options {
    /// How long to wait for the pods created or deleted to be observed before acting again anyway.
    pub expectations_timeout: Duration,
    /// Controllers reconciled at once (one controller is never reconciled twice at a time).
    pub workers: usize,
    /// Where the informers list and watch; the context's client when None.
    /// A separate connection lets a test slow the watch down without slowing writes.
    pub informer_client: Option<Client>,
}

impl Default for Options {
    fn default() -> Self {
        Options { expectations_timeout: expectations::DEFAULT_TIMEOUT, workers: 5, informer_client: None }
    }
}

/// Starts the replication controller in the background with default options.
pub fn start(ctx: &ControllerContext) {
    start_with(ctx, Options::default());
}

/// Starts informers for controllers and pods, and the workers once both have
/// listed: acting on a partial pod list would create pods that exist.
pub fn start_with(ctx: &ControllerContext, options: Options) {
    let queue = Arc::new(WorkQueue::new());
    let expectations = Arc::new(Expectations::new(options.expectations_timeout));
    let informer_client = options.informer_client.unwrap_or_else(|| ctx.client.clone());
    let controllers = Informer::<ReplicationController>::new(informer_client.clone(), ListOptions::default())
        .resync_every(ctx.settings.resync)
        .on_change(handlers::controller_changed(Arc::clone(&queue), Arc::clone(&expectations)))
        .start();
    let pod_changes = PodChanges {
        queue: Arc::clone(&queue),
        expectations: Arc::clone(&expectations),
        controllers: Arc::clone(&controllers.store),
    };
    let pods = Informer::<Pod>::new(informer_client, ListOptions::default())
        .on_change(move |change| pod_changes.handle(change))
        .start();
    let manager = ReplicationManager::new(
        ctx.client.clone(),
        PodControl::new(ctx.client.clone(), ctx.recorder("replication-controller")),
        Arc::clone(&controllers.store),
        Arc::clone(&pods.store),
        expectations,
    );
    tokio::spawn(async move {
        controllers.wait_synced().await;
        pods.wait_synced().await;
        run_controller(queue, Arc::new(manager), options.workers).await;
    });
}
