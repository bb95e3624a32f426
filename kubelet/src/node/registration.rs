//! Registering the Node (creating it, or taking over the one that exists
//! after a kubelet restart or made by an admin), and waiting for the pod CIDR.

use super::status::{node_status, Health, HostFacts};
use super::{system_info, NodeError};
use crate::config::KubeletConfig;
use crate::runtime::ContainerRuntime;
use rk_client::Client;
use rk_proto::v1::{ListOptions, Node, NodeSpec, ObjectMeta};
use rk_proto::{Resource, WatchEventType};
use std::collections::BTreeMap;
use std::time::Duration;
use tonic::{Code, Status};

/// Conflicting writes (others updating the Node meanwhile) tolerated in a row.
pub(super) const ATTEMPTS: usize = 10;

/// Pause before watching again after a watch ended or failed.
const REWATCH_DELAY: Duration = Duration::from_secs(1);

/// The Node's labels: the ones it has, then `--node-labels` over them, then
/// the well-known ones (facts about the node, so they win).
pub fn node_labels(config: &KubeletConfig, existing: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut labels = existing.clone();
    labels.extend(config.node_labels.iter().map(|(k, v)| (k.clone(), v.clone())));
    labels.insert("kubernetes.io/hostname".into(), config.node_name.clone());
    labels.insert("kubernetes.io/os".into(), std::env::consts::OS.into());
    labels.insert("kubernetes.io/arch".into(), system_info::go_arch(std::env::consts::ARCH).into());
    labels
}

/// Creates this kubelet's Node, or updates the existing one's labels and
/// status. The spec (the pod CIDR the IPAM controller assigned, an admin's
/// unschedulable) is left as it is.
pub async fn register_node(
    client: &Client,
    config: &KubeletConfig,
    runtime: &dyn ContainerRuntime,
) -> Result<Node, NodeError> {
    let host = HostFacts::read(config)?;
    let health = Health::of(runtime.version().await);
    let name = config.node_name.as_str();
    for _ in 0..ATTEMPTS {
        let result = match client.get::<Node>("", name).await {
            Ok(existing) => update_existing(client, config, &host, &health, existing).await,
            Err(status) if status.code() == Code::NotFound => {
                client.create(new_node(config, &host, &health)).await.map_err(|s| NodeError::api("create", name, s))
            }
            Err(status) => return Err(NodeError::api("read", name, status)),
        };
        match result {
            Ok(node) => {
                tracing::info!(node = name, ready = matches!(health, Health::Ready(_)), "node registered");
                return Ok(node);
            }
            // Created, changed or deleted by someone else meanwhile: look again.
            Err(NodeError::Api { code: Code::Aborted | Code::AlreadyExists | Code::NotFound, .. }) => continue,
            Err(error) => return Err(error),
        }
    }
    Err(NodeError::Contended { action: "register", node: name.to_string(), attempts: ATTEMPTS })
}

fn new_node(config: &KubeletConfig, host: &HostFacts, health: &Health) -> Node {
    Node {
        metadata: Some(ObjectMeta {
            name: config.node_name.clone(),
            labels: node_labels(config, &BTreeMap::new()),
            ..Default::default()
        }),
        spec: Some(NodeSpec::default()),
        status: Some(node_status(host, health, None, &rk_proto::time::now())),
        ..Default::default()
    }
}

async fn update_existing(
    client: &Client,
    config: &KubeletConfig,
    host: &HostFacts,
    health: &Health,
    mut node: Node,
) -> Result<Node, NodeError> {
    let name = config.node_name.as_str();
    let labels = node_labels(config, &node.metadata().labels);
    if labels != node.metadata().labels {
        node.metadata_mut().labels = labels;
        node = client.update(node).await.map_err(|s| NodeError::api("update the labels of", name, s))?;
    }
    node.status = Some(node_status(host, health, node.status.take(), &rk_proto::time::now()));
    client.update_status(node).await.map_err(|s| NodeError::api("update the status of", name, s))
}

/// Waits until the node IPAM controller has given `node_name` a pod CIDR, and
/// returns it. Never gives up (API errors are logged and retried); drop the
/// future to stop waiting.
pub async fn wait_for_pod_cidr(client: &Client, node_name: &str) -> String {
    loop {
        match watch_for_pod_cidr(client, node_name).await {
            Ok(Some(cidr)) => {
                tracing::info!(node = node_name, pod_cidr = %cidr, "pod CIDR assigned");
                return cidr;
            }
            Ok(None) => tracing::debug!(node = node_name, "node watch ended before a pod CIDR was assigned"),
            Err(status) => tracing::warn!(node = node_name, error = %status.message(), "waiting for the pod CIDR"),
        }
        tokio::time::sleep(REWATCH_DELAY).await;
    }
}

/// Lists the node, then watches it from that list until it has a pod CIDR;
/// `None` when the watch ends first.
async fn watch_for_pod_cidr(client: &Client, node_name: &str) -> Result<Option<String>, Status> {
    let options = ListOptions { field_selector: format!("metadata.name={node_name}"), ..Default::default() };
    let list = client.list::<Node>(options.clone()).await?;
    if let Some(cidr) = list.items.iter().find_map(pod_cidr) {
        return Ok(Some(cidr));
    }
    let from = list.metadata.map(|m| m.resource_version).unwrap_or_default();
    let mut events = client.watch::<Node>(ListOptions { resource_version: from, ..options }).await?;
    while let Some(event) = events.message().await? {
        let (kind, node) = Node::into_watch_parts(event);
        if WatchEventType::parse(&kind) == Some(WatchEventType::Deleted) {
            continue;
        }
        if let Some(cidr) = node.as_ref().and_then(pod_cidr) {
            return Ok(Some(cidr));
        }
    }
    Ok(None)
}

fn pod_cidr(node: &Node) -> Option<String> {
    Some(node.spec.as_ref()?.pod_cidr.clone()).filter(|cidr| !cidr.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_labels_win_over_existing_ones_and_well_known_ones_over_both() {
        let mut config = KubeletConfig::new("node-1");
        config.node_labels = BTreeMap::from([
            ("disktype".to_string(), "ssd".to_string()),
            ("kubernetes.io/hostname".to_string(), "elsewhere".to_string()),
        ]);
        let existing = BTreeMap::from([
            ("disktype".to_string(), "spinning".to_string()),
            ("team".to_string(), "blue".to_string()),
        ]);
        let labels = node_labels(&config, &existing);
        let get = |key: &str| labels.get(key).map(String::as_str);
        assert_eq!(get("disktype"), Some("ssd"));
        assert_eq!(get("team"), Some("blue"), "an admin's label is kept");
        assert_eq!(get("kubernetes.io/hostname"), Some("node-1"));
        assert_eq!(get("kubernetes.io/os"), Some("linux"));
        assert_eq!(get("kubernetes.io/arch"), Some(system_info::go_arch(std::env::consts::ARCH)));
        assert_eq!(labels.len(), 5);
    }
}
