//! Eviction from a node that has been not ready too long: its pods are
//! deleted at once (grace period 0), as Kubernetes' node lifecycle controller
//! force-deletes them, since no kubelet is there to finish a graceful
//! deletion. Their controllers then create replacements, which the scheduler
//! places on ready nodes.
//!
//! Events: NodeControllerEviction on each pod ("Marking for deletion Pod
//! <namespace>/<name> from Node <node>") and DeletingAllPods on the node, the
//! reasons Kubernetes' node controller used before taint-based eviction.

use rk_client::events::EventType;
use rk_client::{Client, EventRecorder};
use rk_proto::v1::{DeleteRequest, ListOptions, Node, Pod, Preconditions};
use rk_proto::Resource;
use tonic::{Code, Status};

/// Deletes every pod bound to `node`; returns how many were deleted.
pub async fn evict_pods(client: &Client, recorder: &EventRecorder, node: &Node) -> Result<usize, Status> {
    let node_name = &node.metadata().name;
    let selector = ListOptions { field_selector: format!("spec.nodeName={node_name}"), ..Default::default() };
    let pods = client.list::<Pod>(selector).await?.items;
    let mut deleted = 0;
    for pod in &pods {
        let meta = pod.metadata();
        let request = DeleteRequest {
            namespace: meta.namespace.clone(),
            name: meta.name.clone(),
            grace_period_seconds: Some(0),
            // Never a pod of the same name created since the list.
            preconditions: Some(Preconditions { uid: meta.uid.clone(), ..Default::default() }),
            ..Default::default()
        };
        match client.delete::<Pod>(request).await {
            Ok(_) => deleted += 1,
            // Gone already, or replaced by a new pod of the same name.
            Err(status) if matches!(status.code(), Code::NotFound | Code::Aborted) => continue,
            Err(status) => return Err(status),
        }
        let message = format!("Marking for deletion Pod {}/{} from Node {node_name}", meta.namespace, meta.name);
        recorder.record(pod, EventType::Normal, "NodeControllerEviction", message);
    }
    if deleted > 0 {
        recorder.record(
            node,
            EventType::Normal,
            "DeletingAllPods",
            format!("Deleting all Pods from Node {node_name}."),
        );
    }
    Ok(deleted)
}
