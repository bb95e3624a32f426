//! What a controller needs to know about a pod's state.

use chrono::{DateTime, Utc};
use rk_proto::v1::{Pod, PodCondition};
use rk_proto::Resource;

/// Not being deleted and not finished: a pod that counts towards a controller's replicas.
pub fn is_active(pod: &Pod) -> bool {
    pod.metadata().deletion_timestamp.is_empty() && !is_terminal(pod)
}

/// Succeeded or Failed: nothing runs any more.
pub fn is_terminal(pod: &Pod) -> bool {
    matches!(phase(pod), "Succeeded" | "Failed")
}

pub fn phase(pod: &Pod) -> &str {
    pod.status.as_ref().map_or("", |status| status.phase.as_str())
}

/// The pod's Ready condition is True.
pub fn is_ready(pod: &Pod) -> bool {
    ready_condition(pod).is_some_and(|condition| condition.status == "True")
}

/// When a ready pod became ready (its Ready condition's lastTransitionTime), if recorded.
pub fn ready_since(pod: &Pod) -> Option<DateTime<Utc>> {
    ready_condition(pod)
        .filter(|condition| condition.status == "True")
        .and_then(|condition| rk_proto::time::parse(&condition.last_transition_time))
}

fn ready_condition(pod: &Pod) -> Option<&PodCondition> {
    pod.status.as_ref()?.conditions.iter().find(|condition| condition.r#type == "Ready")
}
