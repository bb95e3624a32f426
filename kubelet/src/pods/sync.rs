//! The per-pod sync: one reconcile per pod key that reads the pod from the
//! informer store and the containers from the runtime, and makes the
//! containers match the spec (sandbox first, then each container by its
//! restart policy, with back-off), then writes the status if it changed.

use super::admission;
use super::containers::PodContainers;
use super::spec;
use super::status::{self, StatusInputs};
use super::waiting::WaitingReasons;
use crate::backoff::Backoff;
use crate::config::KubeletConfig;
use crate::datasets::DatasetUsers;
use crate::probes::{ProbeManager, RunningContainer};
use crate::runtime::{ContainerInfo, ContainerRuntime, ContainerState};
use rk_client::clock::Clock;
use rk_client::events::EventType;
use rk_client::{Action, Client, EventRecorder, Reconciler, Store, WorkQueue};
use rk_proto::v1::{Dataset, Node, Pod, PodStatus, Service};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

type SyncError = Box<dyn std::error::Error + Send + Sync>;

pub struct PodSyncer {
    pub(super) config: Arc<KubeletConfig>,
    pub(super) client: Client,
    pub(super) runtime: Arc<dyn ContainerRuntime>,
    pub(super) pods: Arc<Store<Pod>>,
    pub(super) services: Arc<Store<Service>>,
    pub(super) nodes: Arc<Store<Node>>,
    pub(super) datasets: Arc<Store<Dataset>>,
    /// Pods that may run containers on datasets (the transfer service's in-use answer).
    pub(super) dataset_users: Arc<DatasetUsers>,
    pub(super) queue: Arc<WorkQueue>,
    pub(super) events: EventRecorder,
    pub(super) probes: Arc<ProbeManager>,
    pub(super) crash_backoff: Backoff,
    pub(super) pull_backoff: Backoff,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) waiting: WaitingReasons,
    /// Pods that passed admission (by uid); others are checked before anything runs.
    admitted: Mutex<HashSet<String>>,
    /// The last status written per pod uid, with the resourceVersion the
    /// write made: the store may lag behind our own writes.
    written: Mutex<HashMap<String, (PodStatus, u64)>>,
    /// Earliest time-based wake-up asked for during the current sync, per pod key.
    requeue: Mutex<HashMap<String, Duration>>,
}

pub struct PodSyncerParts {
    pub config: Arc<KubeletConfig>,
    pub client: Client,
    pub runtime: Arc<dyn ContainerRuntime>,
    pub pods: Arc<Store<Pod>>,
    pub services: Arc<Store<Service>>,
    pub nodes: Arc<Store<Node>>,
    pub datasets: Arc<Store<Dataset>>,
    pub dataset_users: Arc<DatasetUsers>,
    pub queue: Arc<WorkQueue>,
    pub probes: Arc<ProbeManager>,
    pub clock: Arc<dyn Clock>,
}

impl PodSyncer {
    pub fn new(parts: PodSyncerParts) -> PodSyncer {
        let config = parts.config;
        let backoff = || Backoff::new(config.backoff_initial, config.backoff_max, Arc::clone(&parts.clock));
        PodSyncer {
            events: EventRecorder::new(parts.client.clone(), "kubelet", &config.node_name),
            crash_backoff: backoff(),
            pull_backoff: backoff(),
            client: parts.client,
            runtime: parts.runtime,
            pods: parts.pods,
            services: parts.services,
            nodes: parts.nodes,
            datasets: parts.datasets,
            dataset_users: parts.dataset_users,
            queue: parts.queue,
            probes: parts.probes,
            clock: parts.clock,
            waiting: WaitingReasons::default(),
            admitted: Mutex::default(),
            written: Mutex::default(),
            requeue: Mutex::default(),
            config,
        }
    }

    /// Asks for another sync of `pod` within `delay` (back-offs ending).
    pub(super) fn requeue_within(&self, pod: &Pod, delay: Duration) {
        let key = rk_client::object_key(pod.metadata.as_ref().unwrap_or(&Default::default()));
        let mut requeue = self.requeue.lock().unwrap();
        let entry = requeue.entry(key).or_insert(delay);
        *entry = (*entry).min(delay);
    }

    fn take_requeue(&self, key: &str) -> Action {
        match self.requeue.lock().unwrap().remove(key) {
            Some(delay) => Action::RequeueAfter(delay.max(Duration::from_millis(100))),
            None => Action::Done,
        }
    }

    async fn sync(&self, key: &str) -> Result<Action, SyncError> {
        let listing = self.runtime.list_containers().await?;
        let Some(pod) = self.pods.get(key) else {
            self.remove_leftovers(key, &listing, None).await?;
            let pods = self.pods.list();
            self.dataset_users.retain(|uid| pods.iter().any(|p| p.metadata.as_ref().is_some_and(|m| m.uid == uid)));
            return Ok(Action::Done);
        };
        let uid = pod.metadata.as_ref().map(|m| m.uid.clone()).unwrap_or_default();
        // Containers of an earlier pod with the same name.
        self.remove_leftovers(key, &listing, Some(&uid)).await?;
        let containers = PodContainers::of_pod(&listing, &uid);
        if pod.metadata.as_ref().is_some_and(|m| !m.deletion_timestamp.is_empty()) {
            return self.terminate(&pod, &containers).await;
        }
        let phase = pod.status.as_ref().map(|s| s.phase.as_str()).unwrap_or_default();
        if matches!(phase, "Succeeded" | "Failed") {
            self.stop_all(&containers, Duration::ZERO).await?;
            self.dataset_users.stop(&uid);
            return Ok(Action::Done);
        }
        if !self.admit(&pod, &containers).await? {
            return Ok(Action::Done);
        }
        let changed =
            if self.datasets_ready(&pod, &containers) { self.sync_containers(&pod, &containers).await? } else { false };
        let containers =
            if changed { PodContainers::of_pod(&self.runtime.list_containers().await?, &uid) } else { containers };
        self.update_probes(key, &pod, &containers);
        self.write_status(&pod, &containers).await?;
        self.prune(&containers).await;
        Ok(self.take_requeue(key))
    }

    /// Runs admission once per pod; a pod with containers already running
    /// (a kubelet restart) was admitted before.
    async fn admit(&self, pod: &Pod, containers: &PodContainers) -> Result<bool, SyncError> {
        let uid = pod.metadata.as_ref().map(|m| m.uid.clone()).unwrap_or_default();
        if self.admitted.lock().unwrap().contains(&uid) {
            return Ok(true);
        }
        let was_running = !containers.all.is_empty() || pod.status.as_ref().is_some_and(|s| s.phase == "Running");
        let node = self.nodes.list().into_iter().next();
        let verdict = match (&node, was_running) {
            (Some(node), false) => {
                let admitted = self.admitted.lock().unwrap().clone();
                let others: Vec<_> = self
                    .pods
                    .list()
                    .into_iter()
                    .filter(|p| p.metadata.as_ref().is_some_and(|m| admitted.contains(&m.uid)))
                    .collect();
                admission::admit(pod, node, others.iter().map(|p| p.as_ref()))
            }
            _ => Ok(()),
        };
        match verdict {
            Ok(()) => {
                self.admitted.lock().unwrap().insert(uid);
                Ok(true)
            }
            Err(rejection) => {
                self.events.record(pod, EventType::Warning, &rejection.reason, rejection.message.clone());
                let mut failed = pod.clone();
                failed.status = Some(admission::rejected_status(pod, &rejection));
                self.client.update_status(failed).await?;
                Ok(false)
            }
        }
    }

    /// Starts the sandbox and every container that should run. Returns
    /// whether anything changed in the runtime.
    async fn sync_containers(&self, pod: &Pod, containers: &PodContainers) -> Result<bool, SyncError> {
        let mut changed = false;
        let sandbox = match containers.running_sandbox() {
            Some(sandbox) => sandbox.clone(),
            None => {
                if !self.anything_to_run(pod, containers) {
                    return Ok(false);
                }
                // Containers left in a dead sandbox have lost their network.
                self.stop_all(containers, Duration::ZERO).await?;
                changed = true;
                match self.start_sandbox(pod, containers).await? {
                    Some(sandbox) => sandbox,
                    None => return Ok(changed),
                }
            }
        };
        for container in spec::containers(pod) {
            changed |= self.sync_container(pod, containers, container, &sandbox).await?;
        }
        Ok(changed)
    }

    fn anything_to_run(&self, pod: &Pod, containers: &PodContainers) -> bool {
        let policy = spec::restart_policy(pod);
        spec::containers(pod).iter().any(|c| should_run(policy, containers.latest(&c.name)))
    }

    fn update_probes(&self, key: &str, pod: &Pod, containers: &PodContainers) {
        let running: Vec<RunningContainer> = containers
            .running_apps()
            .map(|c| RunningContainer {
                name: c.container_name.clone().unwrap_or_default(),
                id: c.id.clone(),
                started_at: c.started_at.clone(),
            })
            .collect();
        let pod_ip =
            containers.running_sandbox().and_then(|s| s.ip.clone()).unwrap_or_else(|| self.config.node_ip.clone());
        self.probes.sync_pod(key, pod, &pod_ip, &running);
    }

    async fn write_status(&self, pod: &Pod, containers: &PodContainers) -> Result<(), SyncError> {
        let uid = pod.metadata.as_ref().map(|m| m.uid.clone()).unwrap_or_default();
        let waiting = self.waiting.of_pod(&uid);
        let probes = Arc::clone(&self.probes);
        let ready = move |id: &str| probes.ready(id);
        let now = rk_proto::time::now();
        let status = status::compute(&StatusInputs {
            pod,
            containers,
            waiting: &waiting,
            ready: &ready,
            host_ip: &self.config.node_ip,
            now: &now,
        });
        if pod.status.as_ref() == Some(&status) || self.store_lags_our_write(pod, &uid, &status) {
            return Ok(());
        }
        let mut updated = pod.clone();
        updated.status = Some(status.clone());
        let written = self.client.update_status(updated).await?;
        self.written.lock().unwrap().insert(uid, (status, resource_version(&written)));
        Ok(())
    }

    /// We wrote `status` already and the store has not seen that write yet.
    /// A store at or past our write that shows something else means another
    /// writer (the node controller marking pods not ready) changed it: ours goes again.
    fn store_lags_our_write(&self, pod: &Pod, uid: &str, status: &PodStatus) -> bool {
        self.written
            .lock()
            .unwrap()
            .get(uid)
            .is_some_and(|(ours, version)| ours == status && resource_version(pod) < *version)
    }

    /// Removes dead containers nobody will ask about again (best effort).
    async fn prune(&self, containers: &PodContainers) {
        for old in containers.prunable() {
            if let Err(error) = self.runtime.remove_container(&old.id).await {
                tracing::debug!(id = %old.id, %error, "could not prune a dead container");
            }
        }
    }

    pub(super) async fn stop_all(&self, containers: &PodContainers, grace: Duration) -> Result<(), SyncError> {
        let running: Vec<&ContainerInfo> =
            containers.all.iter().filter(|c| c.state == ContainerState::Running).collect();
        // Apps first, in parallel, then the sandbox that holds their network.
        let (sandboxes, apps): (Vec<_>, Vec<_>) = running.into_iter().partition(|c| c.is_sandbox());
        futures::future::try_join_all(apps.iter().map(|c| self.runtime.stop_container(&c.id, grace))).await?;
        futures::future::try_join_all(sandboxes.iter().map(|c| self.runtime.stop_container(&c.id, grace))).await?;
        Ok(())
    }

    /// Drops back-off entries of containers that have run long enough to be forgiven.
    pub fn collect_garbage(&self) {
        self.crash_backoff.gc();
        self.pull_backoff.gc();
    }

    pub(super) fn forget_pod(&self, uid: &str) {
        self.dataset_users.stop(uid);
        self.waiting.forget_pod(uid);
        self.admitted.lock().unwrap().remove(uid);
        self.written.lock().unwrap().remove(uid);
    }
}

/// Whether a container whose latest run is `latest` should be (re)started.
pub(super) fn should_run(restart_policy: &str, latest: Option<&ContainerInfo>) -> bool {
    match latest {
        None => true,
        Some(c) if c.state != ContainerState::Exited => c.state != ContainerState::Running,
        Some(c) => match restart_policy {
            "Always" => true,
            "OnFailure" => c.exit_code != 0,
            _ => false,
        },
    }
}

#[async_trait::async_trait]
impl Reconciler for PodSyncer {
    fn name(&self) -> &'static str {
        "kubelet-pods"
    }

    async fn reconcile(&self, key: &str) -> Result<Action, SyncError> {
        self.sync(key).await
    }
}

fn resource_version(pod: &Pod) -> u64 {
    pod.metadata.as_ref().and_then(|meta| meta.resource_version.parse().ok()).unwrap_or(0)
}
