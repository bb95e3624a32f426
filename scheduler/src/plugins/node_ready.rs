//! Filter: only Ready nodes that are not cordoned take pods.

use super::{Filter, PodInfo, Reason, Reasons};
use crate::node_info::NodeInfo;
use rk_proto::v1::Node;

/// Whether the node takes new pods: `spec.unschedulable` is false and its
/// Ready condition is True (a node that never reported one is not ready).
pub fn node_ready_and_schedulable(node: &Node) -> Result<(), Reason> {
    if node.spec.as_ref().is_some_and(|spec| spec.unschedulable) {
        return Err(Reason::Unschedulable);
    }
    let ready = node
        .status
        .iter()
        .flat_map(|status| &status.conditions)
        .any(|condition| condition.r#type == "Ready" && condition.status == "True");
    if ready {
        Ok(())
    } else {
        Err(Reason::NotReady)
    }
}

pub struct NodeReady;

impl Filter for NodeReady {
    /// Worked out when the node is stored (see [`NodeInfo::readiness`]).
    fn filter(&self, _pod: PodInfo, node: &NodeInfo) -> Reasons {
        node.readiness()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::node;

    #[test]
    fn ready_schedulable_nodes_pass() {
        assert_eq!(node_ready_and_schedulable(&node("n1", &[])), Ok(()));
    }

    #[test]
    fn cordoned_nodes_are_unschedulable() {
        let mut n = node("n1", &[]);
        n.spec.get_or_insert_with(Default::default).unschedulable = true;
        assert_eq!(node_ready_and_schedulable(&n), Err(Reason::Unschedulable));
    }

    #[test]
    fn nodes_not_ready_unknown_or_silent_are_not_ready() {
        for status in ["False", "Unknown"] {
            let mut n = node("n1", &[]);
            n.status.as_mut().unwrap().conditions[0].status = status.into();
            assert_eq!(node_ready_and_schedulable(&n), Err(Reason::NotReady), "Ready={status}");
        }
        let mut silent = node("n1", &[]);
        silent.status.as_mut().unwrap().conditions.clear();
        assert_eq!(node_ready_and_schedulable(&silent), Err(Reason::NotReady));
        assert_eq!(NodeInfo::new(silent.into(), Default::default()).readiness(), Reason::NotReady.into());
    }
}
