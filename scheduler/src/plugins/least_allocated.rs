//! Score: prefer the node with the most cpu and memory left after placing
//! the pod, which spreads load across the cluster.

use super::{PodInfo, Score, MAX_SCORE};
use crate::node_info::NodeInfo;

pub struct LeastAllocated;

impl Score for LeastAllocated {
    /// The mean over cpu and memory of the share left free, in `0..=MAX_SCORE`.
    /// Counts defaults for what pods do not request, so pods without
    /// requests spread too.
    fn score(&self, pod: PodInfo, node: &NodeInfo) -> i64 {
        let allocatable = node.allocatable().resources;
        let mut requested = node.usage.non_zero_requested;
        requested += pod.usage.non_zero_requests;
        (free_share(requested.milli_cpu, allocatable.milli_cpu) + free_share(requested.memory, allocatable.memory)) / 2
    }
}

fn free_share(requested: i64, allocatable: i64) -> i64 {
    if allocatable <= 0 || requested >= allocatable {
        return 0;
    }
    // i128: memory in bytes times MAX_SCORE could overflow i64 on huge nodes.
    ((allocatable - requested) as i128 * MAX_SCORE as i128 / allocatable as i128) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node_info::NodeUsage;
    use crate::pod_usage::PodUsage;
    use crate::testing::{node, pod};
    use std::sync::Arc;

    fn score(pod_cpu: &str, node_cpu: &str, used_cpu: &str) -> i64 {
        let n = node("n", &[("cpu", node_cpu), ("memory", "10Gi")]);
        let mut usage = NodeUsage::default();
        usage.add(&PodUsage::new(&pod("running", &[("cpu", used_cpu), ("memory", "5Gi")], &[])));
        let info = NodeInfo::new(Arc::new(n), usage);
        let new = pod("new", &[("cpu", pod_cpu), ("memory", "0")], &[]);
        let usage = PodUsage::new(&new);
        LeastAllocated.score(PodInfo::new(&new, &usage), &info)
    }

    #[test]
    fn emptier_nodes_score_higher() {
        // memory: 5Gi of 10Gi used plus the 200Mi default for the new pod.
        let memory_share = (10240 - 5120 - 200) * 100 / 10240;
        assert_eq!(score("1", "4", "1"), (50 + memory_share) / 2);
        assert!(score("1", "8", "1") > score("1", "4", "1"));
        assert_eq!(score("4", "4", "1"), memory_share / 2, "a full resource scores 0");
    }
}
