//! The pod sync's dataset check: containers of a pod that uses datasets
//! start only while every one is Ready on this node; until then they wait
//! with the reason (DatasetNotReady / DatasetUnavailable) in their status
//! and an event. Containers already running are left alone (the old pod of
//! a move runs on through its first pass), but none is (re)started.

use super::containers::PodContainers;
use super::sync::PodSyncer;
use crate::datasets::gate;
use rk_client::events::EventType;
use rk_proto::v1::Pod;

impl PodSyncer {
    /// Whether the pod's containers may start; records the pod as a user of
    /// its datasets before they do.
    pub(super) fn datasets_ready(&self, pod: &Pod, containers: &PodContainers) -> bool {
        let uid = pod.metadata.as_ref().map(|m| m.uid.clone()).unwrap_or_default();
        let find = |key: &crate::datasets::transfer::DatasetKey| self.datasets.get(&format!("{key}"));
        match gate::check(pod, &self.config.node_name, find) {
            Ok(keys) => {
                self.dataset_users.start(&uid, keys);
                true
            }
            Err(waiting) => {
                for container in super::spec::containers(pod) {
                    let running = containers
                        .latest(&container.name)
                        .is_some_and(|c| c.state == crate::runtime::ContainerState::Running);
                    if !running {
                        self.waiting.set(&uid, &container.name, &waiting.reason, waiting.message.clone());
                    }
                }
                if !containers.any_running() {
                    self.dataset_users.stop(&uid);
                    self.events.record(pod, EventType::Warning, &waiting.reason, waiting.message);
                }
                false
            }
        }
    }
}
