//! Which pods go first when a controller scales down, as in Kubernetes:
//! unscheduled before scheduled, pending before running, not ready before
//! ready, newer before older. The pods lost are the ones that cost least.

use super::pod_state::{is_ready, phase};
use chrono::{DateTime, Utc};
use rk_proto::v1::Pod;
use rk_proto::Resource;
use std::cmp::Reverse;
use std::sync::Arc;

/// The `count` pods to delete first.
pub fn pods_to_delete(pods: &[Arc<Pod>], count: usize) -> Vec<Arc<Pod>> {
    let mut ranked = pods.to_vec();
    ranked.sort_by_cached_key(|pod| deletion_rank(pod));
    ranked.truncate(count);
    ranked
}

/// Lower ranks are deleted first.
fn deletion_rank(pod: &Pod) -> (bool, u8, bool, Reverse<Option<DateTime<Utc>>>, String) {
    let scheduled = pod.spec.as_ref().is_some_and(|spec| !spec.node_name.is_empty());
    let phase_rank = match phase(pod) {
        "Unknown" => 1,
        "Running" => 2,
        _ => 0,
    };
    let created = rk_proto::time::parse(&pod.metadata().creation_timestamp);
    // The name only makes the order deterministic among otherwise equal pods.
    (scheduled, phase_rank, is_ready(pod), Reverse(created), pod.metadata().name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::v1::{ObjectMeta, PodCondition, PodSpec, PodStatus};

    fn pod(name: &str, node: &str, phase: &str, ready: bool, created: &str) -> Arc<Pod> {
        let conditions = vec![PodCondition {
            r#type: "Ready".into(),
            status: if ready { "True" } else { "False" }.into(),
            ..Default::default()
        }];
        Arc::new(Pod {
            metadata: Some(ObjectMeta { name: name.into(), creation_timestamp: created.into(), ..Default::default() }),
            spec: Some(PodSpec { node_name: node.into(), ..Default::default() }),
            status: Some(PodStatus { phase: phase.into(), conditions, ..Default::default() }),
            ..Default::default()
        })
    }

    #[test]
    fn cheapest_pods_go_first() {
        let pods = [
            pod("old-ready", "n1", "Running", true, "2024-01-01T00:00:00Z"),
            pod("new-ready", "n1", "Running", true, "2024-01-02T00:00:00Z"),
            pod("not-ready", "n1", "Running", false, "2024-01-01T00:00:00Z"),
            pod("pending", "n1", "Pending", false, "2024-01-01T00:00:00Z"),
            pod("unknown", "n1", "Unknown", false, "2024-01-01T00:00:00Z"),
            pod("unscheduled", "", "Pending", false, "2024-01-01T00:00:00Z"),
        ];
        let order: Vec<String> =
            pods_to_delete(&pods, pods.len()).iter().map(|pod| pod.metadata().name.clone()).collect();
        assert_eq!(order, ["unscheduled", "pending", "unknown", "not-ready", "new-ready", "old-ready"]);
        assert_eq!(pods_to_delete(&pods, 2).len(), 2);
    }
}
