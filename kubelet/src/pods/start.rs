//! Starting things: the pod's sandbox, and one spec container (image, env,
//! volumes, create, start), with crash-loop back-off between restarts and a
//! liveness failure turned into a restart.

use super::containers::PodContainers;
use super::spec;
use super::status::Waiting;
use super::sync::{should_run, PodSyncer};
use super::volumes;
use crate::backoff;
use crate::env;
use crate::runtime::{ContainerConfig, ContainerInfo, ContainerState};
use rk_client::events::EventType;
use rk_proto::v1::{Container, Pod, Service};
use std::collections::BTreeMap;
use std::time::Duration;

type SyncError = Box<dyn std::error::Error + Send + Sync>;

impl PodSyncer {
    /// Creates a new sandbox; `None` when that failed (reported, retried later).
    pub(super) async fn start_sandbox(
        &self,
        pod: &Pod,
        containers: &PodContainers,
    ) -> Result<Option<ContainerInfo>, SyncError> {
        let uid = pod.metadata.as_ref().map(|m| m.uid.clone()).unwrap_or_default();
        let attempt = containers.sandbox().map(|s| s.attempt + 1).unwrap_or(0);
        let config = spec::sandbox_config(pod, &self.config.pod_network, &self.config.pause_image, attempt);
        if let Err(error) = self.runtime.run_sandbox(&config).await {
            let message = format!("Failed to create pod sandbox: {error}");
            self.events.record(pod, EventType::Warning, "FailedCreatePodSandBox", message.clone());
            for c in spec::containers(pod) {
                self.waiting.set(&uid, &c.name, "ContainerCreating", message.clone());
            }
            return Err(message.into());
        }
        let listing = self.runtime.list_containers().await?;
        Ok(PodContainers::of_pod(&listing, &uid).running_sandbox().cloned())
    }

    /// Brings one spec container to what its restart policy asks. Returns
    /// whether anything changed in the runtime.
    pub(super) async fn sync_container(
        &self,
        pod: &Pod,
        containers: &PodContainers,
        container: &Container,
        sandbox: &ContainerInfo,
    ) -> Result<bool, SyncError> {
        let uid = pod.metadata.as_ref().map(|m| m.uid.clone()).unwrap_or_default();
        let latest = containers.latest(&container.name);
        if let Some(running) = latest.filter(|c| c.state == ContainerState::Running) {
            let Some(failure) = self.probes.liveness_failed(&running.id) else { return Ok(false) };
            self.events.record(pod, EventType::Warning, "Unhealthy", failure);
            let message = format!("Container {} failed liveness probe, will be restarted", container.name);
            self.events.record(pod, EventType::Normal, "Killing", message);
            self.runtime
                .stop_container(&running.id, Duration::from_secs(spec::grace_period_seconds(pod) as u64))
                .await?;
            self.queue.add(&pod_key(pod));
            return Ok(true);
        }
        if !should_run(spec::restart_policy(pod), latest) {
            self.waiting.clear(&uid, &container.name);
            return Ok(false);
        }
        let backoff_key = backoff::container_key(&uid, &container.name);
        if let Some(dead) = latest.filter(|c| c.state == ContainerState::Exited) {
            let finished = chrono::DateTime::parse_from_rfc3339(&dead.finished_at)
                .map(|t| t.with_timezone(&chrono::Utc))
                .unwrap_or_else(|_| self.clock.now());
            if let Some(remaining) = self.crash_backoff.in_backoff(&backoff_key, finished) {
                let message = format!(
                    "back-off {} restarting failed container={} pod={}",
                    humantime(self.crash_backoff.delay(&backoff_key).unwrap_or_default()),
                    container.name,
                    pod_key(pod)
                );
                self.events.record(pod, EventType::Warning, "BackOff", "Back-off restarting failed container");
                self.waiting.set(&uid, &container.name, "CrashLoopBackOff", message);
                self.requeue_within(pod, remaining);
                return Ok(false);
            }
            self.crash_backoff.next(&backoff_key);
            tracing::info!(pod = %pod_key(pod), container = %container.name, exit_code = dead.exit_code, "restarting container");
        }
        // A container created but never started (a failed start) is replaced.
        if let Some(stale) = latest.filter(|c| c.state != ContainerState::Exited) {
            self.runtime.remove_container(&stale.id).await?;
        }
        let attempt = match latest {
            Some(c) if c.state == ContainerState::Exited => c.attempt + 1,
            Some(c) => c.attempt,
            None => 0,
        };
        match self.start_container(pod, container, attempt, sandbox).await {
            Ok(()) => self.waiting.clear(&uid, &container.name),
            Err(waiting) => {
                self.waiting.set(&uid, &container.name, &waiting.reason, waiting.message);
            }
        }
        Ok(true)
    }

    async fn start_container(
        &self,
        pod: &Pod,
        container: &Container,
        attempt: u32,
        sandbox: &ContainerInfo,
    ) -> Result<(), Waiting> {
        self.ensure_image(pod, container).await?;
        let meta = pod.metadata.clone().unwrap_or_default();
        let pod_ip = sandbox.ip.clone().unwrap_or_else(|| self.config.node_ip.clone());
        let services: Vec<Service> = self
            .services
            .list()
            .into_iter()
            .filter(|s| s.metadata.as_ref().is_some_and(|m| m.namespace == meta.namespace))
            .map(|s| s.as_ref().clone())
            .collect();
        let config_error = |message: String| {
            self.events.record(pod, EventType::Warning, "Failed", format!("Error: {message}"));
            Waiting { reason: "CreateContainerConfigError".into(), message }
        };
        let environment = env::container_env(pod, container, &pod_ip, &self.config.node_ip, &services)
            .map_err(|e| config_error(e.to_string()))?;
        let mounts = volumes::mounts(&self.config.root_dir, pod, container).map_err(|e| config_error(e.to_string()))?;
        let (entrypoint, cmd) = spec::entrypoint_and_cmd(container);
        let config = ContainerConfig {
            pod_uid: meta.uid.clone(),
            namespace: meta.namespace.clone(),
            pod_name: meta.name.clone(),
            sandbox_id: sandbox.id.clone(),
            name: container.name.clone(),
            attempt,
            image: container.image.clone(),
            entrypoint: entrypoint.map(|c| env::expand_command(&c, &environment)),
            cmd: cmd.map(|c| env::expand_command(&c, &environment)),
            working_dir: (!container.working_dir.is_empty()).then(|| container.working_dir.clone()),
            env: environment,
            mounts,
            memory_limit_bytes: spec::memory_limit_bytes(container),
            nano_cpus: spec::nano_cpus(container),
            privileged: container.security_context.as_ref().and_then(|s| s.privileged).unwrap_or(false),
            stdin: container.stdin,
            tty: container.tty,
            labels: BTreeMap::new(),
            termination_grace_seconds: spec::grace_period_seconds(pod),
        };
        let failed = |reason: &str, error: crate::runtime::RuntimeError| {
            let message = error.to_string();
            self.events.record(pod, EventType::Warning, "Failed", format!("Error: {message}"));
            Waiting { reason: reason.into(), message }
        };
        let id = self.runtime.create_container(&config).await.map_err(|e| failed("CreateContainerError", e))?;
        self.events.record(pod, EventType::Normal, "Created", format!("Created container {}", container.name));
        self.runtime.start_container(&id).await.map_err(|e| failed("RunContainerError", e))?;
        self.events.record(pod, EventType::Normal, "Started", format!("Started container {}", container.name));
        Ok(())
    }
}

pub(super) fn pod_key(pod: &Pod) -> String {
    rk_client::object_key(pod.metadata.as_ref().unwrap_or(&Default::default()))
}

/// `10s`, `1m20s`, `5m0s`: how Kubernetes prints back-off delays.
fn humantime(delay: Duration) -> String {
    let seconds = delay.as_secs();
    if seconds < 60 {
        format!("{seconds}s")
    } else {
        format!("{}m{}s", seconds / 60, seconds % 60)
    }
}
