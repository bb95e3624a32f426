//! The objects the bench creates, and removing its pods between parts.

use crate::docker::NodeDocker;
use crate::pod_watch::PodWatch;
use anyhow::Context;
use rk_client::Client;
use rk_proto::v1::{
    Container, DeleteRequest, ListOptions, Namespace, ObjectMeta, Pod, PodSpec, PodTemplateSpec, ReplicationController,
    ReplicationControllerSpec,
};
use std::collections::BTreeMap;
use std::time::Duration;

pub const NAMESPACE: &str = "bench";
/// rk's busybox, which the kubelet builds when it starts.
pub const IMAGE: &str = rk_kubelet::images::BUSYBOX_IMAGE;
/// `sleep 3600`, the measured pod's command.
pub const SLEEP: [&str; 2] = ["sleep", "3600"];
/// Exits on SIGTERM (a shell's `sleep` as PID 1 would ignore it and wait out the grace period).
pub const SLEEP_UNTIL_TERM: [&str; 3] = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"];
const GONE_TIMEOUT: Duration = Duration::from_secs(120);

/// A pod of one busybox container running `command`, image present (IfNotPresent).
pub fn pod_spec(command: &[&str]) -> PodSpec {
    PodSpec {
        containers: vec![Container {
            name: "app".into(),
            image: IMAGE.into(),
            command: command.iter().map(|s| s.to_string()).collect(),
            image_pull_policy: "IfNotPresent".into(),
            ..Default::default()
        }],
        restart_policy: "Always".into(),
        ..Default::default()
    }
}

pub fn pod(name: &str) -> Pod {
    Pod {
        metadata: Some(ObjectMeta { name: name.into(), namespace: NAMESPACE.into(), ..Default::default() }),
        spec: Some(pod_spec(&SLEEP)),
        ..Default::default()
    }
}

/// A replication controller of `replicas` pods labelled `app=<name>`, running `command`.
pub fn replication_controller(name: &str, replicas: i32, command: &[&str]) -> ReplicationController {
    let labels = BTreeMap::from([("app".to_string(), name.to_string())]);
    ReplicationController {
        metadata: Some(ObjectMeta { name: name.into(), namespace: NAMESPACE.into(), ..Default::default() }),
        spec: Some(ReplicationControllerSpec {
            replicas: Some(replicas),
            selector: labels.clone(),
            template: Some(PodTemplateSpec {
                metadata: Some(ObjectMeta { labels, ..Default::default() }),
                spec: Some(pod_spec(command)),
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub async fn create_namespace(client: &Client) -> anyhow::Result<()> {
    let namespace =
        Namespace { metadata: Some(ObjectMeta { name: NAMESPACE.into(), ..Default::default() }), ..Default::default() };
    client.create(namespace).await.with_context(|| format!("creating namespace {NAMESPACE}"))?;
    Ok(())
}

/// Force-deletes every pod of the namespace (grace 0: the object goes at
/// once), then waits until the watch saw them go and the kubelet removed
/// their containers, so the next measurement starts from an empty node.
pub async fn clear_pods(client: &Client, watch: &PodWatch, docker: Option<&NodeDocker>) -> anyhow::Result<()> {
    let pods = client.list::<Pod>(ListOptions { namespace: NAMESPACE.into(), ..Default::default() }).await?;
    for pod in pods.items {
        let name = pod.metadata.map(|m| m.name).unwrap_or_default();
        let request = DeleteRequest {
            namespace: NAMESPACE.into(),
            name: name.clone(),
            grace_period_seconds: Some(0),
            ..Default::default()
        };
        match client.delete::<Pod>(request).await {
            Err(status) if status.code() != tonic::Code::NotFound => {
                return Err(status).with_context(|| format!("deleting pod {name}"));
            }
            _ => {}
        }
    }
    watch
        .wait_for("every bench pod deleted", GONE_TIMEOUT, |pods| {
            pods.values().all(|seen| seen.deleted.is_some()).then_some(())
        })
        .await?;
    if let Some(docker) = docker {
        docker.wait_node_empty(GONE_TIMEOUT).await?;
    }
    Ok(())
}
