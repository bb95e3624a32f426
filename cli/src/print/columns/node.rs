//! Node columns: NAME STATUS ROLES AGE VERSION, wide adds INTERNAL-IP EXTERNAL-IP OS-IMAGE
//! KERNEL-VERSION CONTAINER-RUNTIME.

use super::{with_wide, Columns};
use crate::print::age::{age, UNKNOWN};
use crate::print::format::{or_none, NONE};
use chrono::{DateTime, Utc};
use rk_proto::v1::Node;
use rk_proto::Resource;
use std::collections::BTreeSet;

const ROLE_LABEL_PREFIX: &str = "node-role.kubernetes.io/";
/// The older role label, whose value is the role.
const ROLE_LABEL: &str = "kubernetes.io/role";

/// STATUS: `Ready`/`NotReady` from the Ready condition (`Unknown` without one), then
/// `,SchedulingDisabled` when cordoned.
pub fn node_status(node: &Node) -> String {
    let conditions = node.status.as_ref().map(|s| s.conditions.as_slice()).unwrap_or_default();
    // The last Ready condition wins, as kubectl indexes them by type.
    let mut status = match conditions.iter().rev().find(|c| c.r#type == "Ready") {
        Some(c) if c.status == "True" => "Ready".to_string(),
        Some(_) => "NotReady".to_string(),
        None => "Unknown".to_string(),
    };
    if node.spec.as_ref().is_some_and(|s| s.unschedulable) {
        status.push_str(",SchedulingDisabled");
    }
    status
}

/// ROLES: from `node-role.kubernetes.io/<role>` labels and the `kubernetes.io/role` label, sorted.
pub fn node_roles(node: &Node) -> Vec<String> {
    let mut roles = BTreeSet::new();
    for (key, value) in &node.metadata().labels {
        if let Some(role) = key.strip_prefix(ROLE_LABEL_PREFIX).filter(|r| !r.is_empty()) {
            roles.insert(role.to_string());
        } else if key == ROLE_LABEL && !value.is_empty() {
            roles.insert(value.clone());
        }
    }
    roles.into_iter().collect()
}

/// The first address of a type (`InternalIP`, `ExternalIP`), or `<none>`.
pub(crate) fn node_address(node: &Node, address_type: &str) -> String {
    let addresses = node.status.as_ref().map(|s| s.addresses.as_slice()).unwrap_or_default();
    addresses.iter().find(|a| a.r#type == address_type).map_or_else(|| NONE.to_string(), |a| a.address.clone())
}

impl Columns for Node {
    fn headers(wide: bool) -> Vec<&'static str> {
        with_wide(vec!["NAME", "STATUS", "ROLES", "AGE", "VERSION"], wide, || {
            vec!["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"]
        })
    }

    fn row(&self, wide: bool, now: DateTime<Utc>) -> Vec<String> {
        let meta = self.metadata();
        let info = self.status.as_ref().and_then(|s| s.node_info.clone()).unwrap_or_default();
        let normal = vec![
            meta.name.clone(),
            node_status(self),
            or_none(&node_roles(self).join(",")),
            age(&meta.creation_timestamp, now),
            info.kubelet_version.clone(),
        ];
        let or_unknown = |s: &str| if s.is_empty() { UNKNOWN.to_string() } else { s.to_string() };
        with_wide(normal, wide, || {
            vec![
                node_address(self, "InternalIP"),
                node_address(self, "ExternalIP"),
                or_unknown(&info.os_image),
                or_unknown(&info.kernel_version),
                or_unknown(&info.container_runtime_version),
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::v1::{NodeAddress, NodeCondition, NodeSpec, NodeStatus, NodeSystemInfo, ObjectMeta};

    fn node(ready: Option<&str>, unschedulable: bool) -> Node {
        let conditions = ready
            .map(|status| NodeCondition { r#type: "Ready".into(), status: status.into(), ..Default::default() })
            .into_iter()
            .collect();
        Node {
            metadata: Some(ObjectMeta { name: "node-1".into(), ..Default::default() }),
            spec: Some(NodeSpec { unschedulable, ..Default::default() }),
            status: Some(NodeStatus { conditions, ..Default::default() }),
            ..Default::default()
        }
    }

    #[test]
    fn status() {
        assert_eq!(node_status(&node(Some("True"), false)), "Ready");
        assert_eq!(node_status(&node(Some("False"), false)), "NotReady");
        assert_eq!(node_status(&node(Some("Unknown"), false)), "NotReady");
        assert_eq!(node_status(&node(None, false)), "Unknown");
        assert_eq!(node_status(&node(Some("True"), true)), "Ready,SchedulingDisabled");
    }

    #[test]
    fn roles() {
        let mut n = node(None, false);
        assert_eq!(n.row(false, Utc::now())[2], "<none>");
        let labels = &mut n.metadata.as_mut().unwrap().labels;
        labels.insert("node-role.kubernetes.io/worker".into(), "".into());
        labels.insert("node-role.kubernetes.io/control-plane".into(), "".into());
        labels.insert("node-role.kubernetes.io/".into(), "".into());
        labels.insert("kubernetes.io/role".into(), "ingress".into());
        assert_eq!(node_roles(&n), ["control-plane", "ingress", "worker"]);
        assert_eq!(n.row(false, Utc::now())[2], "control-plane,ingress,worker");
    }

    #[test]
    fn wide() {
        let mut n = node(Some("True"), false);
        let status = n.status.as_mut().unwrap();
        status.addresses = vec![
            NodeAddress { r#type: "Hostname".into(), address: "node-1".into() },
            NodeAddress { r#type: "InternalIP".into(), address: "10.0.0.1".into() },
        ];
        status.node_info =
            Some(NodeSystemInfo { kubelet_version: "v1.20.0".into(), os_image: "Debian".into(), ..Default::default() });
        let row = n.row(true, Utc::now());
        assert_eq!(row[4..], ["v1.20.0", "10.0.0.1", "<none>", "Debian", "<unknown>", "<unknown>"]);
    }
}
