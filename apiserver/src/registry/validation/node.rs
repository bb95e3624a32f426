//! Nodes: cluster-scoped, registered by their kubelet, which reports capacity.

use super::common::{check_quantities, Errors, NameFormat};
use super::meta::validate_meta;
use crate::registry::field_error::FieldError;
use crate::registry::strategy::Strategy;
use rk_proto::quantity;
use rk_proto::v1::Node;
use std::net::Ipv4Addr;

impl Strategy for Node {
    /// As in Kubernetes, a node that reports no allocatable resources offers its whole capacity.
    fn apply_defaults(&mut self) {
        if let Some(status) = &mut self.status {
            quantity::canonicalize_all(&mut status.capacity);
            quantity::canonicalize_all(&mut status.allocatable);
            if status.allocatable.is_empty() {
                status.allocatable = status.capacity.clone();
            }
        }
    }

    fn validate(&self) -> Vec<FieldError> {
        let mut errs = validate_meta(self, NameFormat::Dns1123Subdomain);
        let pod_cidr = pod_cidr(self);
        if !pod_cidr.is_empty() && !is_ipv4_cidr(pod_cidr) {
            errs.push(FieldError::invalid("spec.podCIDR", pod_cidr, "must be a valid IPv4 CIDR (e.g. 10.244.1.0/24)"));
        }
        if let Some(status) = &self.status {
            check_quantities(&mut errs, "status.capacity", &status.capacity);
            check_quantities(&mut errs, "status.allocatable", &status.allocatable);
        }
        errs
    }

    /// The pod CIDR is assigned once (by the IPAM controller): it may go from empty to a value only.
    fn validate_kind_update(&self, old: &Self, errs: &mut Errors) {
        if !pod_cidr(old).is_empty() && pod_cidr(self) != pod_cidr(old) {
            errs.push(FieldError::new("spec.podCIDR", "Forbidden: node updates may not change podCIDR once it is set"));
        }
    }

    spec_and_status!();
}

fn pod_cidr(node: &Node) -> &str {
    node.spec.as_ref().map_or("", |spec| spec.pod_cidr.as_str())
}

fn is_ipv4_cidr(cidr: &str) -> bool {
    cidr.split_once('/').is_some_and(|(ip, bits)| {
        ip.parse::<Ipv4Addr>().is_ok()
            && bits.bytes().all(|b| b.is_ascii_digit())
            && bits.parse::<u8>().is_ok_and(|bits| bits <= 32)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::validation::testing::{defaulted, error_at, fields};
    use serde_json::json;

    fn registered() -> Node {
        defaulted::<Node>(json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "node-1.example", "labels": {"kubernetes.io/hostname": "node-1"}},
            "spec": {"podCIDR": "10.244.1.0/24"},
            "status": {"capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
                       "addresses": [{"type": "InternalIP", "address": "192.168.50.11"}]}
        }))
    }

    #[test]
    fn a_registered_node_passes_and_allocatable_defaults_to_capacity() {
        let node = registered();
        assert_eq!(node.validate(), []);
        let status = node.status.as_ref().unwrap();
        assert_eq!(status.allocatable, status.capacity);
    }

    #[test]
    fn capacity_and_allocatable_are_stored_in_canonical_form() {
        let node = defaulted::<Node>(json!({
            "apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"},
            "status": {"capacity": {"cpu": "4000m", "memory": "8Gi"}, "allocatable": {"cpu": "3.5", "pods": "110"}}
        }));
        let status = node.status.unwrap();
        assert_eq!(status.capacity["cpu"], "4");
        assert_eq!(status.capacity["memory"], "8Gi");
        assert_eq!(status.allocatable["cpu"], "3500m");
        assert_eq!(status.allocatable["pods"], "110");
    }

    #[test]
    fn every_problem_is_reported() {
        let node = defaulted::<Node>(json!({
            "metadata": {"name": "Node_1", "namespace": "default"},
            "spec": {"podCIDR": "10.244.1.0/33"},
            "status": {"capacity": {"cpu": "four"}, "allocatable": {"memory": "-1Gi"}}
        }));
        let errs = node.validate();
        assert_eq!(
            fields(&errs),
            [
                "metadata.name",
                "metadata.namespace",
                "spec.podCIDR",
                "status.capacity[cpu]",
                "status.allocatable[memory]"
            ]
        );
        assert!(errs[2].message.contains("valid IPv4 CIDR"));
        for bad in ["10.244.1.0", "10.244.1/24", "10.244.1.0/+8", "10.244.1.0/x"] {
            assert!(!is_ipv4_cidr(bad), "{bad}");
        }
    }

    #[test]
    fn pod_cidr_may_be_set_once() {
        let mut old = registered();
        old.spec.as_mut().unwrap().pod_cidr.clear();
        let new = registered();
        assert_eq!(new.validate_update(&old), []);
        assert!(new.spec_changed(&old));
        let mut moved = registered();
        moved.spec.as_mut().unwrap().pod_cidr = "10.244.2.0/24".into();
        assert!(error_at(&moved.validate_update(&new), "spec.podCIDR").message.contains("may not change"));
    }

    #[test]
    fn status_and_spec_are_kept() {
        let old = registered();
        let mut update = registered();
        update.spec.as_mut().unwrap().unschedulable = true;
        update.status = None;
        update.keep_status(&old);
        assert_eq!(update.status, old.status);
        update.keep_spec(&old);
        assert_eq!(update, old);
    }
}
