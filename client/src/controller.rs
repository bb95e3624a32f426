//! The controller loop: workers take keys from a work queue and call
//! `reconcile(key)`, which reads the current state from informer stores and
//! makes the world match it. Errors are retried with back-off.

use crate::workqueue::WorkQueue;
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

/// What to do with a key after a successful reconcile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Done,
    /// Look again after this long (for time-based conditions like expectations or grace periods).
    RequeueAfter(Duration),
}

#[async_trait]
pub trait Reconciler: Send + Sync + 'static {
    /// Short name for logs, like `replication-controller`.
    fn name(&self) -> &'static str;

    async fn reconcile(&self, key: &str) -> Result<Action, Box<dyn std::error::Error + Send + Sync>>;
}

/// Runs `workers` concurrent workers until the queue is shut down.
pub async fn run_controller(queue: Arc<WorkQueue>, reconciler: Arc<dyn Reconciler>, workers: usize) {
    let tasks: Vec<_> = (0..workers.max(1))
        .map(|_| {
            let (queue, reconciler) = (Arc::clone(&queue), Arc::clone(&reconciler));
            tokio::spawn(async move {
                while let Some(key) = queue.get().await {
                    match reconciler.reconcile(&key).await {
                        Ok(action) => {
                            queue.forget(&key);
                            if let Action::RequeueAfter(delay) = action {
                                queue.add_after(&key, delay);
                            }
                        }
                        Err(error) => {
                            tracing::warn!(controller = reconciler.name(), %key, %error, "reconcile failed; retrying");
                            queue.add_rate_limited(&key);
                        }
                    }
                    queue.done(&key);
                }
            })
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
}
