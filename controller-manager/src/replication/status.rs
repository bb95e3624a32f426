//! The status a replication controller reports: how many of its pods exist,
//! carry all the template's labels, are ready, and have been ready for
//! minReadySeconds.

use super::pod_state::{is_ready, ready_since};
use chrono::{DateTime, Utc};
use rk_client::Client;
use rk_proto::v1::{Pod, ReplicationController, ReplicationControllerStatus};
use rk_proto::Resource;
use std::sync::Arc;
use tonic::{Code, Status};

/// The status for `rc` given its active pods, at `now`.
pub fn compute(rc: &ReplicationController, pods: &[Arc<Pod>], now: DateTime<Utc>) -> ReplicationControllerStatus {
    let spec = rc.spec.clone().unwrap_or_default();
    let template_labels = spec.template.and_then(|template| template.metadata).unwrap_or_default().labels;
    let min_ready = chrono::Duration::seconds(spec.min_ready_seconds.into());
    let count = |include: &dyn Fn(&Pod) -> bool| pods.iter().filter(|pod| include(pod)).count() as i32;
    ReplicationControllerStatus {
        replicas: pods.len() as i32,
        fully_labeled_replicas: count(&|pod| {
            template_labels.iter().all(|(key, value)| pod.metadata().labels.get(key) == Some(value))
        }),
        ready_replicas: count(&is_ready),
        available_replicas: count(&|pod| {
            is_ready(pod) && (min_ready.is_zero() || ready_since(pod).is_some_and(|since| since + min_ready <= now))
        }),
        observed_generation: rc.metadata().generation,
    }
}

/// Writes `status` unless `rc` already has it. A conflict (the cached copy is
/// stale) is retried once on a fresh copy, as Kubernetes does.
pub async fn update(
    client: &Client,
    rc: &ReplicationController,
    status: ReplicationControllerStatus,
) -> Result<(), Status> {
    if rc.status.as_ref() == Some(&status) {
        return Ok(());
    }
    let mut updated = rc.clone();
    updated.status = Some(status);
    match client.update_status(updated).await {
        Err(conflict) if conflict.code() == Code::Aborted => {
            let meta = rc.metadata();
            let mut fresh: ReplicationController = client.get(&meta.namespace, &meta.name).await?;
            if fresh.status.as_ref() == Some(&status) {
                return Ok(());
            }
            fresh.status = Some(status);
            client.update_status(fresh).await.map(drop)
        }
        result => result.map(drop),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::v1::{ObjectMeta, PodCondition, PodStatus, PodTemplateSpec, ReplicationControllerSpec};

    fn pod(labels: &[(&str, &str)], ready_since: Option<&str>) -> Arc<Pod> {
        let conditions = ready_since
            .map(|since| PodCondition {
                r#type: "Ready".into(),
                status: "True".into(),
                last_transition_time: since.into(),
                ..Default::default()
            })
            .into_iter()
            .collect();
        Arc::new(Pod {
            metadata: Some(ObjectMeta {
                labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                ..Default::default()
            }),
            status: Some(PodStatus { conditions, ..Default::default() }),
            ..Default::default()
        })
    }

    #[test]
    fn counts_labelled_ready_and_available_pods() {
        let template = PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: [("app", "web"), ("tier", "front")].map(|(k, v)| (k.to_string(), v.to_string())).into(),
                ..Default::default()
            }),
            spec: None,
        };
        let rc = ReplicationController {
            metadata: Some(ObjectMeta { generation: 4, ..Default::default() }),
            spec: Some(ReplicationControllerSpec {
                template: Some(template),
                min_ready_seconds: 10,
                ..Default::default()
            }),
            ..Default::default()
        };
        let now = rk_proto::time::parse("2024-01-01T00:01:00Z").unwrap();
        let pods = [
            pod(&[("app", "web"), ("tier", "front")], Some("2024-01-01T00:00:00Z")),
            pod(&[("app", "web"), ("tier", "front")], Some("2024-01-01T00:00:55Z")),
            pod(&[("app", "web")], None),
        ];
        let status = compute(&rc, &pods, now);
        assert_eq!(
            status,
            ReplicationControllerStatus {
                replicas: 3,
                fully_labeled_replicas: 2,
                ready_replicas: 2,
                available_replicas: 1,
                observed_generation: 4,
            }
        );
    }
}
