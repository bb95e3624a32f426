//! The namespace controller: a namespace marked for deletion (Terminating)
//! is emptied, every object of every kind in it deleted, and then its
//! "kubernetes" finalizer is removed, upon which the apiserver deletes it.
//! Objects can still be created in a terminating namespace, so it sweeps
//! until a sweep finds nothing.

mod content;
mod controller;

use crate::ControllerContext;
use content::Content;
use controller::NamespaceController;
use rk_client::{run_controller, Informer, WorkQueue};
use rk_proto::v1::{ListOptions, Namespace};
use rk_proto::Resource;
use std::sync::Arc;
use std::time::Duration;

const WORKERS: usize = 2;

#[derive(Debug, Clone)]
pub struct Options {
    /// A pod in a terminating namespace still there this long after its
    /// grace period ended (its kubelet did not finish it) is removed anyway,
    /// so that a namespace never hangs on a node that is gone.
    pub force_delete_margin: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options { force_delete_margin: Duration::from_secs(30) }
    }
}

/// Starts the namespace controller in the background with default options.
pub fn start(ctx: &ControllerContext) {
    start_with(ctx, Options::default());
}

/// Starts an informer for namespaces that queues the terminating ones, and
/// the workers once it has listed.
pub fn start_with(ctx: &ControllerContext, options: Options) {
    let queue = Arc::new(WorkQueue::new());
    let namespaces = Informer::<Namespace>::new(ctx.client.clone(), ListOptions::default())
        .resync_every(ctx.settings.resync)
        .on_change({
            let queue = Arc::clone(&queue);
            move |change| {
                let meta = change.object().metadata();
                if !meta.deletion_timestamp.is_empty() {
                    queue.add(&meta.name);
                }
            }
        })
        .start();
    let controller = Arc::new(NamespaceController {
        client: ctx.client.clone(),
        namespaces: Arc::clone(&namespaces.store),
        content: Content { client: ctx.client.clone(), force_delete_margin: options.force_delete_margin },
    });
    tokio::spawn(async move {
        namespaces.wait_synced().await;
        run_controller(queue, controller, WORKERS).await;
    });
}
