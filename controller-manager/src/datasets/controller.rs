//! The reconciler: reads one dataset, its users and the nodes from the
//! informers' stores, applies [`decide`]'s verdict (status, pod deletions,
//! event).

use super::users::{node_of, users_of};
use super::verdict::decide;
use async_trait::async_trait;
use rk_client::events::EventType;
use rk_client::{Action, Client, EventRecorder, Reconciler, Store};
use rk_proto::v1::{Dataset, DeleteRequest, Node, Pod, Preconditions};
use rk_proto::Resource;
use std::sync::Arc;
use tonic::Code;

pub struct DatasetController {
    pub client: Client,
    pub recorder: EventRecorder,
    pub datasets: Arc<Store<Dataset>>,
    pub pods: Arc<Store<Pod>>,
    pub nodes: Arc<Store<Node>>,
}

/// Whether the node exists and its Ready condition is True.
pub fn is_ready(node: Option<&Node>) -> bool {
    let conditions = node.and_then(|n| n.status.as_ref()).map(|s| s.conditions.as_slice()).unwrap_or_default();
    conditions.iter().any(|c| c.r#type == "Ready" && c.status == "True")
}

impl DatasetController {
    async fn evict(&self, dataset: &Dataset, pod: &Pod) -> Result<(), tonic::Status> {
        let meta = pod.metadata();
        let request = DeleteRequest {
            namespace: meta.namespace.clone(),
            name: meta.name.clone(),
            preconditions: Some(Preconditions { uid: meta.uid.clone(), ..Default::default() }),
            ..Default::default()
        };
        match self.client.delete::<Pod>(request).await {
            Ok(_) => {
                let primary = dataset.spec.as_ref().map(|s| s.primary.as_str()).unwrap_or_default();
                let message =
                    format!("Deleting pod {} on node {}: spec.primary is node {primary}", meta.name, node_of(pod));
                tracing::info!(dataset = %dataset.metadata().name, pod = %meta.name, "{message}");
                self.recorder.record(dataset, EventType::Normal, "DeletingPod", message);
                Ok(())
            }
            Err(status) if matches!(status.code(), Code::NotFound | Code::Aborted) => Ok(()),
            Err(status) => Err(status),
        }
    }
}

#[async_trait]
impl Reconciler for DatasetController {
    fn name(&self) -> &'static str {
        "datasets"
    }

    async fn reconcile(&self, key: &str) -> Result<Action, Box<dyn std::error::Error + Send + Sync>> {
        let Some(dataset) = self.datasets.get(key) else { return Ok(Action::Done) };
        if !dataset.metadata().deletion_timestamp.is_empty() {
            return Ok(Action::Done);
        }
        let users = users_of(&dataset, &self.pods.list());
        let node_ready = |name: &str| is_ready(self.nodes.get(name).as_deref());
        let verdict = decide(&dataset, &users, &node_ready, &rk_proto::time::now());
        for pod in &verdict.evict {
            self.evict(&dataset, pod).await?;
        }
        let Some(status) = verdict.status else { return Ok(Action::Done) };
        let mut updated = dataset.as_ref().clone();
        updated.status = Some(status);
        match self.client.update_status(updated).await {
            Ok(written) => {
                if let Some(event) = verdict.event {
                    let kind = if event.warning { EventType::Warning } else { EventType::Normal };
                    tracing::info!(dataset = key, reason = event.reason, "{}", event.message);
                    self.recorder.record(&written, kind, event.reason, event.message);
                }
                Ok(Action::Done)
            }
            // A newer dataset (a kubelet's write) is on its way through the watch, which queues it again.
            Err(status) if matches!(status.code(), Code::Aborted | Code::NotFound) => Ok(Action::Done),
            Err(status) => Err(status.into()),
        }
    }
}
