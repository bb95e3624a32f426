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
        let grace = remaining_grace(pod, chrono::Utc::now());
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

/// What is left at `now` of the grace period the deletion granted. The
/// deadline (deletionTimestamp) is written in whole seconds, cut down: the
/// real one lies within the second after it, so that second is granted too
/// (but never more than the whole grace period).
fn remaining_grace(pod: &Pod, now: chrono::DateTime<chrono::Utc>) -> Duration {
    let meta = pod.metadata.as_ref();
    let whole = Duration::from_secs(super::spec::grace_period_seconds(pod) as u64);
    let deadline = meta.and_then(|m| chrono::DateTime::parse_from_rfc3339(&m.deletion_timestamp).ok());
    match deadline {
        Some(deadline) => {
            let left = deadline.timestamp_millis() + 1000 - now.timestamp_millis();
            Duration::from_millis(left.max(0) as u64).min(whole)
        }
        None => whole,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::v1::ObjectMeta;

    fn deleted(timestamp: &str, grace: i64) -> Pod {
        let meta = ObjectMeta {
            deletion_timestamp: timestamp.into(),
            deletion_grace_period_seconds: Some(grace),
            ..Default::default()
        };
        Pod { metadata: Some(meta), ..Default::default() }
    }

    fn at(text: &str) -> chrono::DateTime<chrono::Utc> {
        rk_proto::time::parse(text).unwrap()
    }

    #[test]
    fn the_second_cut_off_the_deadline_is_granted_but_never_more_than_the_grace_period() {
        // Deleted at 10.9 s with 2 s of grace: the deadline 12.9 s is written as 12 s.
        let pod = deleted("2026-01-01T00:00:12Z", 2);
        let now = at("2026-01-01T00:00:10Z") + chrono::Duration::milliseconds(900);
        assert_eq!(remaining_grace(&pod, now), Duration::from_secs(2), "2.1 s left by the written deadline: capped");
        assert_eq!(remaining_grace(&pod, at("2026-01-01T00:00:12Z")), Duration::from_secs(1));
        assert_eq!(remaining_grace(&pod, at("2026-01-01T00:00:14Z")), Duration::ZERO);
        assert_eq!(remaining_grace(&deleted("", 5), now), Duration::from_secs(5), "no deadline: the whole grace");
    }
}
