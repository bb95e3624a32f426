//! The pod sync's dataset check: containers of a pod that uses datasets
//! start only while every one is Ready on this node and no other pod here
//! uses it; until then they wait with the reason (DatasetNotReady /
//! DatasetUnavailable / DatasetInUse, naming the pod that has it) in their
//! status and an event. Containers already running are left alone (the old
//! pod of a move runs on through its first pass), but none is (re)started.

use super::containers::PodContainers;
use super::sync::PodSyncer;
use crate::datasets::gate;
use crate::pods::status::Waiting;
use rk_client::events::EventType;
use rk_proto::v1::Pod;
use std::time::Duration;

/// How soon a pod waiting for another pod's dataset looks again.
const RECHECK_IN_USE: Duration = Duration::from_secs(2);

impl PodSyncer {
    /// Whether the pod's containers may start; records the pod as the user of
    /// its datasets before they do.
    pub(super) fn datasets_ready(&self, pod: &Pod, containers: &PodContainers) -> bool {
        let (uid, name) = pod.metadata.as_ref().map(|m| (m.uid.clone(), m.name.clone())).unwrap_or_default();
        let find = |key: &crate::datasets::transfer::DatasetKey| self.datasets.get(&format!("{key}"));
        let waiting = match gate::check(pod, &self.config.node_name, find) {
            Ok(keys) => match self.dataset_users.claim(&uid, &name, keys) {
                Ok(()) => return true,
                Err(in_use) => {
                    self.requeue_within(pod, RECHECK_IN_USE);
                    Waiting {
                        reason: "DatasetInUse".into(),
                        message: format!("dataset {:?} is in use by pod {}", in_use.dataset.name, in_use.pod),
                    }
                }
            },
            Err(waiting) => waiting,
        };
        let mut news = false;
        for container in super::spec::containers(pod) {
            let running =
                containers.latest(&container.name).is_some_and(|c| c.state == crate::runtime::ContainerState::Running);
            if !running {
                news |= self.waiting.set(&uid, &container.name, &waiting.reason, waiting.message.clone());
            }
        }
        if !containers.any_running() {
            self.dataset_users.stop(&uid);
            // One event per reason: a pod waiting for another's dataset is looked at every 2 s.
            if news {
                self.events.record(pod, EventType::Warning, &waiting.reason, waiting.message);
            }
        }
        false
    }
}
