//! Telling users why a pod waits: the PodScheduled=False condition with
//! reason Unschedulable, and a FailedScheduling event. Both are written only
//! when the message changes, so retries of a stuck pod cause no write storm.

use rk_client::events::EventType;
use rk_client::{Client, EventRecorder};
use rk_proto::v1::{Pod, PodCondition};
use rk_proto::Resource;
use std::sync::Arc;
use tonic::Code;

pub const POD_SCHEDULED: &str = "PodScheduled";
pub const UNSCHEDULABLE: &str = "Unschedulable";

/// The pod with condition PodScheduled=False/Unschedulable saying `message`,
/// or None if it says exactly that already.
pub fn with_unschedulable_condition(pod: &Pod, message: &str) -> Option<Pod> {
    let conditions = pod.status.as_ref().map(|status| status.conditions.as_slice()).unwrap_or_default();
    let current = conditions.iter().find(|c| c.r#type == POD_SCHEDULED);
    if current.is_some_and(|c| c.status == "False" && c.reason == UNSCHEDULABLE && c.message == message) {
        return None;
    }
    let last_transition_time = match current {
        Some(c) if c.status == "False" => c.last_transition_time.clone(),
        _ => rk_proto::time::now(),
    };
    let mut updated = pod.clone();
    let status = updated.status.get_or_insert_with(Default::default);
    status.conditions.retain(|c| c.r#type != POD_SCHEDULED);
    status.conditions.push(PodCondition {
        r#type: POD_SCHEDULED.into(),
        status: "False".into(),
        reason: UNSCHEDULABLE.into(),
        message: message.into(),
        last_transition_time,
        ..Default::default()
    });
    Some(updated)
}

/// Writes the condition (a compare-and-swap on the pod's resourceVersion) and
/// then the event, unless the pod says so already. A pod that changed
/// meanwhile is left alone: its next attempt reports afresh.
pub async fn report_unschedulable(client: &Client, recorder: &EventRecorder, pod: Arc<Pod>, message: String) {
    let Some(updated) = with_unschedulable_condition(&pod, &message) else { return };
    match client.update_status(updated).await {
        Ok(_) => recorder.record(&*pod, EventType::Warning, "FailedScheduling", message),
        Err(status) if matches!(status.code(), Code::Aborted | Code::NotFound) => {
            tracing::debug!(pod = %pod.metadata().name, %status, "pod changed before its status was written")
        }
        Err(status) => tracing::warn!(pod = %pod.metadata().name, %status, "could not write the pod's status"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::pod;

    #[test]
    fn the_condition_is_set_once_per_message() {
        let waiting = pod("web", &[], &[]);
        let first = with_unschedulable_condition(&waiting, "0/1 nodes are available: 1 Insufficient cpu.").unwrap();
        let condition = &first.status.as_ref().unwrap().conditions[0];
        assert_eq!(
            (condition.r#type.as_str(), condition.status.as_str(), condition.reason.as_str()),
            ("PodScheduled", "False", "Unschedulable")
        );
        assert!(with_unschedulable_condition(&first, "0/1 nodes are available: 1 Insufficient cpu.").is_none());
        let second = with_unschedulable_condition(&first, "0/2 nodes are available: 2 Insufficient cpu.").unwrap();
        let conditions = &second.status.as_ref().unwrap().conditions;
        assert_eq!(conditions.len(), 1);
        assert_eq!(conditions[0].message, "0/2 nodes are available: 2 Insufficient cpu.");
        assert_eq!(conditions[0].last_transition_time, condition.last_transition_time, "still False: no transition");
    }
}
