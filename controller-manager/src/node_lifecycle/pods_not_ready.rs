//! The pods of a node that is not ready are marked not ready (their Ready
//! condition becomes False), as Kubernetes' node lifecycle controller does:
//! the endpoints controller then takes them out of their Services at once,
//! so traffic stops going to a node nobody can reach, long before the
//! eviction timeout. When the node is back its kubelet writes the pods'
//! real status again.

use rk_client::events::EventType;
use rk_client::{Client, EventRecorder};
use rk_proto::v1::{ListOptions, Node, Pod};
use rk_proto::Resource;
use tonic::{Code, Status};

/// Sets Ready=False on every pod of `node` that says it is ready; returns how many changed.
pub async fn mark_pods_not_ready(
    client: &Client,
    recorder: &EventRecorder,
    node: &Node,
    now: &str,
) -> Result<usize, Status> {
    let selector =
        ListOptions { field_selector: format!("spec.nodeName={}", node.metadata().name), ..Default::default() };
    let mut marked = 0;
    for mut pod in client.list::<Pod>(selector).await?.items {
        let Some(ready) = pod
            .status
            .as_mut()
            .and_then(|status| status.conditions.iter_mut().find(|c| c.r#type == "Ready" && c.status == "True"))
        else {
            continue;
        };
        ready.status = "False".into();
        ready.last_transition_time = now.to_string();
        match client.update_status(pod.clone()).await {
            Ok(_) => marked += 1,
            // The pod changed or went since the list; the next look sees it as it is.
            Err(status) if matches!(status.code(), Code::NotFound | Code::Aborted) => continue,
            Err(status) => return Err(status),
        }
        recorder.record(&pod, EventType::Warning, "NodeNotReady", "Node is not ready".to_string());
    }
    Ok(marked)
}
