//! The pods that use a dataset: those of its namespace with a `dataset`
//! volume naming it, bound to a node, neither being deleted nor finished.

use rk_proto::v1::{Dataset, Pod};
use rk_proto::Resource;
use std::sync::Arc;

/// The names of the datasets a pod's volumes use.
pub fn datasets_of(pod: &Pod) -> impl Iterator<Item = &str> {
    pod.spec.iter().flat_map(|spec| &spec.volumes).filter_map(|v| v.dataset.as_ref()).map(|d| d.name.as_str())
}

/// Whether the pod holds (or is about to hold) its node for its datasets.
pub fn is_user(pod: &Pod) -> bool {
    let bound = pod.spec.as_ref().is_some_and(|spec| !spec.node_name.is_empty());
    let finished = pod.status.as_ref().is_some_and(|s| matches!(s.phase.as_str(), "Succeeded" | "Failed"));
    bound && !finished && pod.metadata().deletion_timestamp.is_empty()
}

/// The users of `dataset` among `pods`, oldest first.
pub fn users_of(dataset: &Dataset, pods: &[Arc<Pod>]) -> Vec<Arc<Pod>> {
    let meta = dataset.metadata();
    let mut users: Vec<Arc<Pod>> = pods
        .iter()
        .filter(|pod| pod.metadata().namespace == meta.namespace && is_user(pod))
        .filter(|pod| datasets_of(pod).any(|name| name == meta.name))
        .cloned()
        .collect();
    users.sort_by(|a, b| {
        (&a.metadata().creation_timestamp, &a.metadata().name)
            .cmp(&(&b.metadata().creation_timestamp, &b.metadata().name))
    });
    users
}

/// The node a pod is bound to.
pub fn node_of(pod: &Pod) -> &str {
    pod.spec.as_ref().map(|spec| spec.node_name.as_str()).unwrap_or_default()
}
