//! Score: spread the pods of one controller, and of one Service, across
//! nodes (Kubernetes' SelectorSpread, without zones).

use super::{PodInfo, Score, MAX_SCORE};
use crate::node_info::NodeInfo;

pub struct Spreading;

impl Score for Spreading {
    /// How many pods on the node share a spread key with this one (a pod
    /// sharing two keys counts twice, which ranks nodes the same way when a
    /// controller and a Service select the same pods).
    fn score(&self, pod: PodInfo, node: &NodeInfo) -> i64 {
        pod.usage.spread_keys.iter().map(|key| node.usage.spread_counts.get(key).copied().unwrap_or(0) as i64).sum()
    }

    /// Fewest siblings scores highest: `MAX_SCORE * (max - count) / max`.
    fn normalize(&self, scores: &mut [i64]) {
        let max = scores.iter().copied().max().unwrap_or(0);
        for score in scores {
            *score = if max == 0 { MAX_SCORE } else { MAX_SCORE * (max - *score) / max };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node_info::NodeUsage;
    use crate::pod_usage::PodUsage;
    use crate::testing::{node, owned_by, pod};
    use std::sync::Arc;

    #[test]
    fn nodes_with_fewer_siblings_score_higher() {
        let sibling = PodUsage::new(&owned_by(pod("s", &[], &[]), "rc"));
        let stranger = PodUsage::new(&owned_by(pod("x", &[], &[]), "other"));
        let info = |siblings: usize| {
            let mut usage = NodeUsage::default();
            (0..siblings).for_each(|_| usage.add(&sibling));
            usage.add(&stranger);
            NodeInfo::new(Arc::new(node("n", &[])), usage)
        };
        let new = owned_by(pod("new", &[], &[]), "rc");
        let usage = PodUsage::new(&new);
        let mut scores: Vec<i64> =
            [0, 1, 2].iter().map(|&n| Spreading.score(PodInfo::new(&new, &usage), &info(n))).collect();
        assert_eq!(scores, [0, 1, 2]);
        Spreading.normalize(&mut scores);
        assert_eq!(scores, [100, 50, 0]);
        let mut lonely = vec![0, 0];
        Spreading.normalize(&mut lonely);
        assert_eq!(lonely, [100, 100], "a pod without siblings prefers no node");
    }
}
