//! The pod lifecycle event generator: lists the runtime every relist period
//! and queues the pod of every container that appeared, changed state or
//! vanished, so a container that dies is noticed within a period even
//! though nothing changed in the API. Containers of pods this node no longer
//! has are queued too, and their sync removes them.

use crate::runtime::{ContainerInfo, ContainerRuntime, ContainerState};
use rk_client::{Store, WorkQueue};
use rk_proto::v1::Pod;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

pub struct Pleg {
    runtime: Arc<dyn ContainerRuntime>,
    pods: Arc<Store<Pod>>,
    queue: Arc<WorkQueue>,
    period: Duration,
}

impl Pleg {
    pub fn new(
        runtime: Arc<dyn ContainerRuntime>,
        pods: Arc<Store<Pod>>,
        queue: Arc<WorkQueue>,
        period: Duration,
    ) -> Pleg {
        Pleg { runtime, pods, queue, period }
    }

    /// Relists forever; start it only once the pod store has synced, or the
    /// containers of pods not yet listed would be taken for leftovers.
    pub async fn run(self) {
        let mut last: HashMap<String, (ContainerState, String)> = HashMap::new();
        let mut interval = tokio::time::interval(self.period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            match self.runtime.list_containers().await {
                Ok(listing) => last = self.relist(&listing, last),
                Err(error) => tracing::warn!(%error, "listing containers failed; retrying"),
            }
        }
    }

    fn relist(
        &self,
        listing: &[ContainerInfo],
        mut last: HashMap<String, (ContainerState, String)>,
    ) -> HashMap<String, (ContainerState, String)> {
        let mut now = HashMap::with_capacity(listing.len());
        for c in listing {
            let key = format!("{}/{}", c.namespace, c.pod_name);
            let changed = last.remove(&c.id).is_none_or(|(state, _)| state != c.state);
            let orphaned = self.pods.get(&key).is_none_or(|p| p.metadata.as_ref().is_none_or(|m| m.uid != c.pod_uid));
            if changed || orphaned {
                self.queue.add(&key);
            }
            now.insert(c.id.clone(), (c.state, key));
        }
        // What is left vanished from the runtime.
        for (_, key) in last.into_values() {
            self.queue.add(&key);
        }
        now
    }
}
