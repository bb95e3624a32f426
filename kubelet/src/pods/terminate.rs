//! Ending pods: graceful termination of a pod marked for deletion (SIGTERM,
//! SIGKILL after the grace period, then the pod object is removed), and
//! removal of containers whose pod is gone (deleted with --force, or while
//! the kubelet was down).

use super::containers::PodContainers;
use super::start::pod_key;
use super::sync::PodSyncer;
use super::volumes;
use crate::runtime::ContainerInfo;
use rk_client::events::EventType;
use rk_client::Action;
use rk_proto::v1::{DeleteRequest, Pod, Preconditions};
use std::time::Duration;
use tonic::Code;

type SyncError = Box<dyn std::error::Error + Send + Sync>;

impl PodSyncer {
    pub(super) async fn terminate(&self, pod: &Pod, containers: &PodContainers) -> Result<Action, SyncError> {
        let meta = pod.metadata.clone().unwrap_or_default();
        let grace = self.remaining_grace(pod);
        if containers.any_running() {
            for c in containers.running_apps() {
                let name = c.container_name.clone().unwrap_or_default();
                self.events.record(pod, EventType::Normal, "Killing", format!("Stopping container {name}"));
            }
            self.stop_all(containers, grace).await?;
        }
        for c in &containers.all {
            self.runtime.remove_container(&c.id).await?;
        }
        volumes::remove_pod_dir(&self.config.root_dir, &meta.uid)?;
        self.probes.remove_pod(&pod_key(pod));
        self.forget_pod(&meta.uid);
        let request = DeleteRequest {
            namespace: meta.namespace.clone(),
            name: meta.name.clone(),
            grace_period_seconds: Some(0),
            preconditions: Some(Preconditions { uid: meta.uid.clone(), resource_version: String::new() }),
            propagation_policy: String::new(),
        };
        match self.client.delete::<Pod>(request).await {
            Ok(_) => Ok(Action::Done),
            // Gone already, or a new pod of the same name: nothing left to do.
            Err(status) if matches!(status.code(), Code::NotFound | Code::Aborted | Code::FailedPrecondition) => {
                Ok(Action::Done)
            }
            Err(status) => Err(status.into()),
        }
    }

    /// What is left of the grace period the deletion granted.
    fn remaining_grace(&self, pod: &Pod) -> Duration {
        let meta = pod.metadata.as_ref();
        let deadline = meta.and_then(|m| chrono::DateTime::parse_from_rfc3339(&m.deletion_timestamp).ok());
        match deadline {
            Some(deadline) => {
                let left = deadline.timestamp_millis() - chrono::Utc::now().timestamp_millis();
                Duration::from_millis(left.max(0) as u64)
            }
            None => Duration::from_secs(super::spec::grace_period_seconds(pod) as u64),
        }
    }

    /// Stops and removes the containers under `key` that belong to no live
    /// pod: all of them when the pod is gone, else those of other uids.
    pub(super) async fn remove_leftovers(
        &self,
        key: &str,
        listing: &[ContainerInfo],
        live_uid: Option<&str>,
    ) -> Result<(), SyncError> {
        let (namespace, name) = key.split_once('/').unwrap_or(("", key));
        let leftovers: Vec<&ContainerInfo> = listing
            .iter()
            .filter(|c| c.namespace == namespace && c.pod_name == name && Some(c.pod_uid.as_str()) != live_uid)
            .collect();
        if leftovers.is_empty() {
            return Ok(());
        }
        let uids: std::collections::BTreeSet<&str> = leftovers.iter().map(|c| c.pod_uid.as_str()).collect();
        tracing::info!(pod = key, ?uids, containers = leftovers.len(), "removing containers of a deleted pod");
        let stale = PodContainers { all: leftovers.iter().map(|c| (*c).clone()).collect() };
        // The pod object is gone (force deletion): no grace period is left to honour.
        self.stop_all(&stale, Duration::ZERO).await?;
        for c in &leftovers {
            self.runtime.remove_container(&c.id).await?;
        }
        for uid in uids {
            volumes::remove_pod_dir(&self.config.root_dir, uid)?;
            self.forget_pod(uid);
        }
        if live_uid.is_none() {
            self.probes.remove_pod(key);
        }
        Ok(())
    }
}
