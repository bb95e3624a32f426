//! A node's conditions as the kubelet reports them, and what becomes of them
//! when the kubelet falls silent.

use rk_proto::v1::{Node, NodeCondition, NodeStatus};

pub const READY: &str = "Ready";
const UNKNOWN: &str = "Unknown";

/// The conditions the kubelet keeps current. Nobody vouches for them once
/// it stops posting, so they all become Unknown, as in Kubernetes.
const KUBELET_CONDITIONS: &[&str] = &[READY, "MemoryPressure", "DiskPressure", "PIDPressure"];

pub fn ready_condition(node: &Node) -> Option<&NodeCondition> {
    node.status.as_ref()?.conditions.iter().find(|c| c.r#type == READY)
}

/// Ready=True. A node without a Ready condition has never been ready.
pub fn is_ready(node: &Node) -> bool {
    ready_condition(node).is_some_and(|c| c.status == "True")
}

/// Ready=Unknown: the controller, not the kubelet, wrote the last word.
pub fn is_unknown(condition: &NodeCondition) -> bool {
    condition.status == UNKNOWN
}

/// Sets every kubelet condition to Unknown; `now` becomes the transition time
/// of those that change. A node whose kubelet never posted gets a Ready
/// condition saying so. Heartbeat times are kept: they tell when it was last heard.
pub fn mark_unknown(status: &mut NodeStatus, now: &str) {
    if !status.conditions.iter().any(|c| c.r#type == READY) {
        status.conditions.push(NodeCondition {
            r#type: READY.into(),
            reason: "NodeStatusNeverUpdated".into(),
            message: "Kubelet never posted node status.".into(),
            status: UNKNOWN.into(),
            last_transition_time: now.into(),
            ..Default::default()
        });
    }
    for condition in status.conditions.iter_mut().filter(|c| KUBELET_CONDITIONS.contains(&c.r#type.as_str())) {
        if condition.status != UNKNOWN {
            condition.status = UNKNOWN.into();
            condition.last_transition_time = now.into();
            condition.reason = "NodeStatusUnknown".into();
            condition.message = "Kubelet stopped posting node status.".into();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn condition(kind: &str, status: &str) -> NodeCondition {
        NodeCondition {
            r#type: kind.into(),
            status: status.into(),
            last_heartbeat_time: "2024-01-01T00:00:00Z".into(),
            last_transition_time: "2023-12-31T00:00:00Z".into(),
            reason: "KubeletReady".into(),
            message: "kubelet is posting ready status".into(),
        }
    }

    #[test]
    fn kubelet_conditions_become_unknown_and_others_stay() {
        let mut status = NodeStatus {
            conditions: vec![
                condition(READY, "True"),
                condition("MemoryPressure", "False"),
                condition("NetworkUnavailable", "False"),
            ],
            ..Default::default()
        };
        mark_unknown(&mut status, "2024-01-01T00:01:00Z");
        let [ready, memory, network] = &status.conditions[..] else { panic!("{:?}", status.conditions) };
        for marked in [ready, memory] {
            assert_eq!(marked.status, "Unknown");
            assert_eq!(marked.reason, "NodeStatusUnknown");
            assert_eq!(marked.message, "Kubelet stopped posting node status.");
            assert_eq!(marked.last_transition_time, "2024-01-01T00:01:00Z");
            assert_eq!(marked.last_heartbeat_time, "2024-01-01T00:00:00Z", "the last heartbeat is kept");
        }
        assert_eq!(network, &condition("NetworkUnavailable", "False"), "not the kubelet's condition");
    }

    #[test]
    fn an_unknown_condition_keeps_its_transition_time() {
        let mut status = NodeStatus { conditions: vec![condition(READY, "Unknown")], ..Default::default() };
        mark_unknown(&mut status, "2024-01-01T00:01:00Z");
        assert_eq!(status.conditions, vec![condition(READY, "Unknown")]);
    }

    #[test]
    fn a_node_that_never_posted_gets_a_ready_condition_saying_so() {
        let mut status = NodeStatus::default();
        mark_unknown(&mut status, "2024-01-01T00:01:00Z");
        let ready = &status.conditions[0];
        assert_eq!((ready.r#type.as_str(), ready.status.as_str()), (READY, "Unknown"));
        assert_eq!(ready.reason, "NodeStatusNeverUpdated");
        assert_eq!(ready.last_transition_time, "2024-01-01T00:01:00Z");
    }
}
