//! Keeps the node's rules in step with the informers: a change wakes the
//! loop, but syncs are at least `min_sync` apart so a burst of changes
//! becomes one sync; a full resync runs every `full_sync` and after a failure.

use crate::model;
use crate::proxier::Proxier;
use rk_client::InformerHandle;
use rk_proto::v1::{Endpoints, Service};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

pub struct SyncLoop {
    pub services: InformerHandle<Service>,
    pub endpoints: InformerHandle<Endpoints>,
    /// Notified by the informers on every change.
    pub changed: Arc<Notify>,
    pub min_sync: Duration,
    pub full_sync: Duration,
}

impl SyncLoop {
    /// Runs until `shutdown` completes.
    pub async fn run(self, mut proxier: Proxier, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        self.services.wait_synced().await;
        self.endpoints.wait_synced().await;
        let mut next_full = Instant::now() + self.full_sync;
        let mut retry = true;
        loop {
            if !retry {
                tokio::select! {
                    _ = self.changed.notified() => {}
                    _ = tokio::time::sleep_until(next_full) => {}
                    _ = &mut shutdown => return,
                }
            }
            let started = Instant::now();
            if started >= next_full {
                proxier.request_full_sync();
                next_full = started + self.full_sync;
            }
            let ports = model::service_ports(&self.services.store.list(), &self.endpoints.store.list());
            retry = match tokio::task::block_in_place(|| proxier.sync(&ports)) {
                Ok(written) => {
                    tracing::debug!(ports = ports.len(), written, took = ?started.elapsed(), "synced");
                    false
                }
                Err(error) => {
                    tracing::warn!(%error, "sync failed; a full sync follows");
                    true
                }
            };
            tokio::select! {
                _ = tokio::time::sleep_until(started + self.min_sync) => {}
                _ = &mut shutdown => return,
            }
        }
    }
}
