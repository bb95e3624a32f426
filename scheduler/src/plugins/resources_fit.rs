//! Filter: the requests of the pods on a node plus this pod's stay within the
//! node's allocatable cpu, memory and pod count.

use super::{Filter, PodInfo, Reason, Reasons};
use crate::node_info::NodeInfo;
use crate::pod_usage::PodUsage;
use rk_proto::v1::{Node, Pod};

/// Whether the pod fits on the node next to `pods_on_node` (limits stand in
/// for missing requests; finished pods hold nothing); the error names every
/// resource that falls short.
pub fn fits_resources<'a>(
    pod: &Pod,
    node: &Node,
    pods_on_node: impl IntoIterator<Item = &'a Pod>,
) -> Result<(), Vec<Reason>> {
    resources_fit(&PodUsage::new(pod), &NodeInfo::from_pods(node, pods_on_node)).into_result()
}

/// A resource the pod requests none of is not checked, so a node that offers
/// no memory still takes pods that ask for none (as in Kubernetes).
fn resources_fit(pod: &PodUsage, node: &NodeInfo) -> Reasons {
    let allocatable = node.allocatable();
    let used = &node.usage;
    let mut reasons = Reasons::NONE;
    if used.pods + 1 > allocatable.pods {
        reasons.insert(Reason::TooManyPods);
    }
    let wanted = pod.requests;
    if wanted.milli_cpu > 0 && used.requested.milli_cpu + wanted.milli_cpu > allocatable.resources.milli_cpu {
        reasons.insert(Reason::InsufficientCpu);
    }
    if wanted.memory > 0 && used.requested.memory + wanted.memory > allocatable.resources.memory {
        reasons.insert(Reason::InsufficientMemory);
    }
    reasons
}

pub struct ResourcesFit;

impl Filter for ResourcesFit {
    fn filter(&self, pod: PodInfo, node: &NodeInfo) -> Reasons {
        resources_fit(pod.usage, node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{node, pod};
    use rk_proto::v1::PodStatus;

    fn two_cpus() -> Node {
        node("n1", &[("cpu", "2"), ("memory", "1Gi"), ("pods", "3")])
    }

    #[test]
    fn four_half_cpu_limits_fill_two_cpus() {
        let half = |name: &str| pod(name, &[], &[("cpu", "0.5")]);
        let node = node("n1", &[("cpu", "2"), ("pods", "10")]);
        let running = [half("a"), half("b"), half("c")];
        assert_eq!(fits_resources(&half("d"), &node, &running), Ok(()));
        let running = [half("a"), half("b"), half("c"), half("d")];
        assert_eq!(fits_resources(&half("e"), &node, &running), Err(vec![Reason::InsufficientCpu]));
    }

    #[test]
    fn every_short_resource_is_named() {
        let running = [pod("a", &[("cpu", "1500m"), ("memory", "800Mi")], &[]), pod("b", &[], &[]), pod("c", &[], &[])];
        let greedy = pod("greedy", &[("cpu", "1"), ("memory", "300Mi")], &[]);
        assert_eq!(
            fits_resources(&greedy, &two_cpus(), &running),
            Err(vec![Reason::InsufficientCpu, Reason::InsufficientMemory, Reason::TooManyPods])
        );
    }

    #[test]
    fn a_pod_requesting_nothing_needs_only_a_pod_slot() {
        let bare = node("n1", &[("pods", "1")]);
        assert_eq!(fits_resources(&pod("p", &[], &[]), &bare, []), Ok(()));
        assert_eq!(
            fits_resources(&pod("p", &[("memory", "1")], &[]), &bare, []),
            Err(vec![Reason::InsufficientMemory])
        );
    }

    #[test]
    fn finished_pods_hold_nothing() {
        let mut done = pod("done", &[("cpu", "2")], &[]);
        done.status = Some(PodStatus { phase: "Succeeded".into(), ..Default::default() });
        assert_eq!(fits_resources(&pod("p", &[("cpu", "2")], &[]), &two_cpus(), [&done]), Ok(()));
    }
}
