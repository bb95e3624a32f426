//! The plugin framework: filters say whether a pod may run on a node, scores
//! rank the nodes that pass. Each plugin is a module whose logic is a pure
//! function of the pod and the node, so the kubelet can reuse the filters for
//! admission ([`fits`]).

pub mod dataset_locality;
pub mod dataset_placement;
pub mod dataset_primary;
pub mod host_ports;
pub mod least_allocated;
pub mod node_ready;
pub mod node_selector;
mod reason;
pub mod resources_fit;
pub mod spreading;

pub use dataset_placement::DatasetPlacement;
pub use reason::{Reason, Reasons};

use crate::node_info::NodeInfo;
use crate::pod_usage::PodUsage;
use rk_proto::v1::{Node, Pod};

/// The highest score a score plugin gives a node.
pub const MAX_SCORE: i64 = 100;

/// The pod being placed, with what the plugins need worked out once for all nodes.
#[derive(Debug, Clone, Copy)]
pub struct PodInfo<'a> {
    pub pod: &'a Pod,
    pub usage: &'a PodUsage,
    /// [`node_selector::label_mask`] of the pod's node selector.
    selector_mask: u64,
    /// Where the pod's datasets want it ([`dataset_placement::placement`]).
    pub datasets: &'a DatasetPlacement,
}

impl<'a> PodInfo<'a> {
    pub fn new(pod: &'a Pod, usage: &'a PodUsage) -> PodInfo<'a> {
        let selector = pod.spec.iter().flat_map(|spec| &spec.node_selector);
        let datasets = &dataset_placement::NO_DATASETS;
        PodInfo { pod, usage, selector_mask: node_selector::label_mask(selector), datasets }
    }

    /// The pod, placed with its datasets' wishes.
    pub fn with_datasets(self, datasets: &'a DatasetPlacement) -> PodInfo<'a> {
        PodInfo { datasets, ..self }
    }
}

pub trait Filter: Send + Sync {
    /// Why the pod cannot run on the node; empty if it can.
    fn filter(&self, pod: PodInfo, node: &NodeInfo) -> Reasons;
}

pub trait Score: Send + Sync {
    /// How well the node suits the pod; higher is better.
    fn score(&self, pod: PodInfo, node: &NodeInfo) -> i64;

    /// Maps the raw scores of the feasible nodes onto `0..=MAX_SCORE`. The
    /// default keeps them, for plugins that score in that range already.
    fn normalize(&self, _scores: &mut [i64]) {}
}

/// The plugins one scheduler runs, in order, with a weight per score plugin.
pub struct Profile {
    filters: Vec<Box<dyn Filter>>,
    scores: Vec<(Box<dyn Score>, i64)>,
}

impl Default for Profile {
    /// Kubernetes' order: cheap node-level checks first, resources last.
    fn default() -> Profile {
        Profile {
            filters: vec![
                Box::new(node_ready::NodeReady),
                Box::new(node_selector::NodeSelector),
                Box::new(dataset_primary::DatasetPrimary),
                Box::new(host_ports::HostPorts),
                Box::new(resources_fit::ResourcesFit),
            ],
            scores: vec![
                (Box::new(least_allocated::LeastAllocated), 1),
                (Box::new(spreading::Spreading), 1),
                (Box::new(dataset_locality::DatasetLocality), dataset_locality::WEIGHT),
            ],
        }
    }
}

impl Profile {
    /// The reasons of the first filter that rejects the node, as Kubernetes'
    /// framework stops at the first failing filter plugin.
    pub fn filter(&self, pod: PodInfo, node: &NodeInfo) -> Reasons {
        self.filters.iter().map(|f| f.filter(pod, node)).find(|reasons| !reasons.is_empty()).unwrap_or_default()
    }

    pub fn scores(&self) -> &[(Box<dyn Score>, i64)] {
        &self.scores
    }
}

/// Whether `pod` may run on `node` given the pods already there: every filter
/// of the default profile, for the kubelet's admission check.
pub fn fits<'a>(pod: &Pod, node: &Node, pods_on_node: impl IntoIterator<Item = &'a Pod>) -> Result<(), Vec<Reason>> {
    let info = NodeInfo::from_pods(node, pods_on_node);
    let usage = PodUsage::new(pod);
    Profile::default().filter(PodInfo::new(pod, &usage), &info).into_result()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{bound_to, node, pod, with_host_port, with_node_selector};

    #[test]
    fn a_pod_fits_a_ready_node_with_room() {
        let n = node("n1", &[("cpu", "2"), ("memory", "4Gi"), ("pods", "10")]);
        let running = bound_to(pod("a", &[("cpu", "1")], &[]), "n1");
        assert_eq!(fits(&pod("b", &[("cpu", "1")], &[]), &n, [&running]), Ok(()));
    }

    #[test]
    fn the_first_failing_filter_answers() {
        let mut n = node("n1", &[("cpu", "1"), ("pods", "10")]);
        n.spec.get_or_insert_with(Default::default).unschedulable = true;
        let big = with_node_selector(pod("big", &[("cpu", "2")], &[]), &[("disktype", "ssd")]);
        assert_eq!(fits(&big, &n, []), Err(vec![Reason::Unschedulable]));
        n.spec.as_mut().unwrap().unschedulable = false;
        assert_eq!(fits(&big, &n, []), Err(vec![Reason::NodeSelectorMismatch]));
        let big = with_host_port(pod("big", &[("cpu", "2")], &[]), 80);
        let holder = with_host_port(pod("holder", &[], &[]), 80);
        assert_eq!(fits(&big, &n, [&holder]), Err(vec![Reason::PortsInUse]));
        assert_eq!(fits(&big, &n, []), Err(vec![Reason::InsufficientCpu]));
    }
}
