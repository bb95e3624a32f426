//! A node as the filters and scores see it: the Node object, what is derived
//! from it once per update (readiness, allocatable), and running totals of the
//! pods on it, so a scheduling cycle never walks a node's pods.

use crate::plugins::node_ready::node_ready_and_schedulable;
use crate::plugins::node_selector::label_mask;
use crate::plugins::Reasons;
use crate::pod_usage::{is_terminated, HostPort, PodUsage};
use crate::resources::{node_allocatable, Allocatable, Resources};
use crate::spread_key::SpreadCounts;
use rk_proto::v1::{Node, Pod};
use std::sync::Arc;

/// The sum of the [`PodUsage`] of the pods on one node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeUsage {
    pub requested: Resources,
    pub non_zero_requested: Resources,
    pub pods: i64,
    pub host_ports: Vec<HostPort>,
    /// Pods on the node per spread key (controller or Service uid).
    pub spread_counts: SpreadCounts,
}

impl NodeUsage {
    pub fn add(&mut self, pod: &PodUsage) {
        self.requested += pod.requests;
        self.non_zero_requested += pod.non_zero_requests;
        self.pods += 1;
        self.host_ports.extend(pod.host_ports.iter().cloned());
        for key in &pod.spread_keys {
            *self.spread_counts.entry(*key).or_default() += 1;
        }
    }

    /// Takes back what [`add`](Self::add) added for the same usage.
    pub fn remove(&mut self, pod: &PodUsage) {
        self.requested -= pod.requests;
        self.non_zero_requested -= pod.non_zero_requests;
        self.pods -= 1;
        for port in &pod.host_ports {
            if let Some(i) = self.host_ports.iter().position(|p| p == port) {
                self.host_ports.swap_remove(i);
            }
        }
        for key in &pod.spread_keys {
            if let Some(count) = self.spread_counts.get_mut(key) {
                *count -= 1;
                if *count == 0 {
                    self.spread_counts.remove(key);
                }
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pods == 0
    }
}

/// A node and the pods on it, ready for filtering and scoring.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    node: Arc<Node>,
    /// Why the node takes no pods at all (not ready, unschedulable), if it does not.
    readiness: Reasons,
    allocatable: Allocatable,
    /// [`label_mask`] of the node's labels.
    label_mask: u64,
    pub usage: NodeUsage,
}

impl NodeInfo {
    pub fn new(node: Arc<Node>, usage: NodeUsage) -> NodeInfo {
        let readiness = node_ready_and_schedulable(&node).err().map(Reasons::from).unwrap_or_default();
        let label_mask = label_mask(node.metadata.iter().flat_map(|meta| &meta.labels));
        NodeInfo { allocatable: node_allocatable(&node), readiness, label_mask, node, usage }
    }

    /// The node with `pods_on_node` on it (finished pods hold nothing and are skipped):
    /// what a kubelet needs to check a pod for admission.
    pub fn from_pods<'a>(node: &Node, pods_on_node: impl IntoIterator<Item = &'a Pod>) -> NodeInfo {
        let mut usage = NodeUsage::default();
        for pod in pods_on_node.into_iter().filter(|pod| !is_terminated(pod)) {
            usage.add(&PodUsage::new(pod));
        }
        NodeInfo::new(Arc::new(node.clone()), usage)
    }

    pub fn node(&self) -> &Arc<Node> {
        &self.node
    }

    pub fn name(&self) -> &str {
        self.node.metadata.as_ref().map_or("", |meta| meta.name.as_str())
    }

    pub fn readiness(&self) -> Reasons {
        self.readiness
    }

    pub fn allocatable(&self) -> Allocatable {
        self.allocatable
    }

    pub fn label_mask(&self) -> u64 {
        self.label_mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{owned_by, pod, with_host_port};

    #[test]
    fn removing_a_pod_undoes_adding_it() {
        let mut usage = NodeUsage::default();
        let first = PodUsage::new(&owned_by(with_host_port(pod("a", &[("cpu", "1")], &[]), 80), "rc"));
        let second = PodUsage::new(&owned_by(pod("b", &[("memory", "1Gi")], &[]), "rc"));
        usage.add(&first);
        let after_first = usage.clone();
        usage.add(&second);
        assert_eq!(usage.pods, 2);
        assert_eq!(usage.requested, Resources { milli_cpu: 1000, memory: 1 << 30 });
        assert_eq!(usage.spread_counts[&crate::spread_key::SpreadKey::of("rc")], 2);
        usage.remove(&second);
        assert_eq!(usage, after_first);
        usage.remove(&first);
        assert_eq!(usage, NodeUsage::default());
        assert!(usage.is_empty());
    }
}
