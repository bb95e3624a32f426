//! The probe workers of every pod, and the results the pod sync loop reads.

use super::spec::ProbeSpec;
use super::worker::Worker;
use super::ProbeKind;
use crate::runtime::ContainerRuntime;
use rk_client::clock::Clock;
use rk_proto::v1::Pod;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use tokio::task::AbortHandle;

/// Called with the pod key whenever a probe result of that pod flips.
pub type OnChange = Arc<dyn Fn(&str) + Send + Sync>;

/// A running app container of a pod, as the sync loop sees it.
#[derive(Debug, Clone)]
pub struct RunningContainer {
    /// The container's name in the pod spec.
    pub name: String,
    pub id: String,
    /// RFC 3339, as the runtime reports it; unreadable counts as "just now".
    pub started_at: String,
}

/// What the probes of one container say.
#[derive(Debug, Default)]
pub(super) struct ContainerResults {
    /// `None` without a readiness probe.
    pub ready: Option<bool>,
    /// Set once the liveness probe has failed `failureThreshold` times.
    pub liveness_failure: Option<String>,
}

/// By container id.
pub(super) type Results = HashMap<String, ContainerResults>;

pub struct ProbeManager {
    runtime: Arc<dyn ContainerRuntime>,
    clock: Arc<dyn Clock>,
    on_change: OnChange,
    /// Pod key → container id → its workers (none when it has no probes).
    workers: Mutex<HashMap<String, HashMap<String, Vec<AbortHandle>>>>,
    results: Arc<Mutex<Results>>,
}

impl ProbeManager {
    pub fn new(runtime: Arc<dyn ContainerRuntime>, clock: Arc<dyn Clock>, on_change: OnChange) -> ProbeManager {
        ProbeManager { runtime, clock, on_change, workers: Mutex::default(), results: Arc::default() }
    }

    /// Probes the `running` containers of `pod` (IP `pod_ip`): starts workers
    /// for containers not seen before, stops those of containers not listed.
    /// Must be called inside a tokio runtime.
    pub fn sync_pod(&self, pod_key: &str, pod: &Pod, pod_ip: &str, running: &[RunningContainer]) {
        let mut workers = self.workers.lock().unwrap();
        let pod_workers = workers.entry(pod_key.to_string()).or_default();
        let listed: HashSet<&str> = running.iter().map(|c| c.id.as_str()).collect();
        pod_workers.retain(|id, handles| {
            let keep = listed.contains(id.as_str());
            if !keep {
                self.stop(id, handles);
            }
            keep
        });
        for container in running {
            if !pod_workers.contains_key(&container.id) {
                let handles = self.start(pod_key, pod, pod_ip, container);
                pod_workers.insert(container.id.clone(), handles);
            }
        }
        if pod_workers.is_empty() {
            workers.remove(pod_key);
        }
    }

    /// Stops every worker of the pod and forgets its results.
    pub fn remove_pod(&self, pod_key: &str) {
        if let Some(pod_workers) = self.workers.lock().unwrap().remove(pod_key) {
            for (id, handles) in &pod_workers {
                self.stop(id, handles);
            }
        }
    }

    /// Whether the container passes its readiness probe; true without one.
    pub fn ready(&self, container_id: &str) -> bool {
        self.results.lock().unwrap().get(container_id).and_then(|r| r.ready).unwrap_or(true)
    }

    /// The event message when the container's liveness probe has failed.
    pub fn liveness_failed(&self, container_id: &str) -> Option<String> {
        self.results.lock().unwrap().get(container_id).and_then(|r| r.liveness_failure.clone())
    }

    fn start(&self, pod_key: &str, pod: &Pod, pod_ip: &str, running: &RunningContainer) -> Vec<AbortHandle> {
        let spec = pod.spec.as_ref().and_then(|spec| spec.containers.iter().find(|c| c.name == running.name));
        let Some(container) = spec else { return Vec::new() };
        let probes =
            [(ProbeKind::Liveness, &container.liveness_probe), (ProbeKind::Readiness, &container.readiness_probe)];
        let results =
            ContainerResults { ready: container.readiness_probe.as_ref().map(|_| false), liveness_failure: None };
        self.results.lock().unwrap().insert(running.id.clone(), results);
        let started_at = rk_proto::time::parse(&running.started_at).unwrap_or_else(|| self.clock.now());
        probes
            .into_iter()
            .filter_map(|(kind, probe)| Some((kind, probe.as_ref()?)))
            .map(|(kind, probe)| {
                let worker = Worker {
                    kind,
                    pod_key: pod_key.to_string(),
                    container_id: running.id.clone(),
                    spec: ProbeSpec::new(probe, container, pod_ip),
                    started_at,
                    runtime: Arc::clone(&self.runtime),
                    clock: Arc::clone(&self.clock),
                    results: Arc::clone(&self.results),
                    on_change: Arc::clone(&self.on_change),
                };
                tokio::spawn(worker.run()).abort_handle()
            })
            .collect()
    }

    fn stop(&self, container_id: &str, handles: &[AbortHandle]) {
        handles.iter().for_each(AbortHandle::abort);
        self.results.lock().unwrap().remove(container_id);
    }
}

impl Drop for ProbeManager {
    fn drop(&mut self) {
        for handles in self.workers.get_mut().unwrap().values().flat_map(HashMap::values) {
            handles.iter().for_each(AbortHandle::abort);
        }
    }
}
