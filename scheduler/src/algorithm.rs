//! One placement decision: filter the nodes, score the feasible ones, pick
//! the best. Pure computation over the cache's nodes; no I/O.

use crate::fit_error::FitError;
use crate::node_info::NodeInfo;
use crate::plugins::{PodInfo, Profile};
use rand::Rng;

/// Below this many nodes every node is filtered and scored.
const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;

/// Places pods with a [`Profile`]. Keeps buffers between calls so a decision
/// allocates nothing, and rotates the node it starts filtering from.
pub struct Algorithm {
    profile: Profile,
    percentage_of_nodes_to_score: Option<u32>,
    next_start: usize,
    feasible: Vec<usize>,
    plugin_scores: Vec<i64>,
    totals: Vec<i64>,
}

impl Algorithm {
    /// `percentage_of_nodes_to_score`: stop filtering once this share of the
    /// nodes was found feasible; `None` adapts it to the cluster size as
    /// Kubernetes does (50% minus 1% per 125 nodes, at least 5%).
    pub fn new(profile: Profile, percentage_of_nodes_to_score: Option<u32>) -> Algorithm {
        Algorithm {
            profile,
            percentage_of_nodes_to_score,
            next_start: 0,
            feasible: Vec::new(),
            plugin_scores: Vec::new(),
            totals: Vec::new(),
        }
    }

    /// The index in `nodes` of the node for the pod, or why none fits.
    ///
    /// Large clusters are not searched exhaustively: once enough feasible
    /// nodes are found the search stops, and the next search starts where
    /// this one stopped, so every node gets its turn. A pod that fits nowhere
    /// has been checked against every node.
    pub fn schedule(&mut self, pod: PodInfo, nodes: &[NodeInfo]) -> Result<usize, FitError> {
        let wanted = self.nodes_to_find(nodes.len());
        let mut error = FitError::new(nodes.len());
        self.feasible.clear();
        let mut examined = 0;
        for offset in 0..nodes.len() {
            let index = (self.next_start + offset) % nodes.len();
            examined += 1;
            let reasons = self.profile.filter(pod, &nodes[index]);
            if reasons.is_empty() {
                self.feasible.push(index);
                if self.feasible.len() >= wanted {
                    break;
                }
            } else {
                error.add(reasons);
            }
        }
        if !nodes.is_empty() {
            self.next_start = (self.next_start + examined) % nodes.len();
        }
        match self.feasible.len() {
            0 => Err(error),
            1 => Ok(self.feasible[0]),
            _ => Ok(self.best(pod, nodes)),
        }
    }

    fn nodes_to_find(&self, nodes: usize) -> usize {
        if nodes < MIN_FEASIBLE_NODES_TO_FIND {
            return nodes;
        }
        let adaptive = || 50usize.saturating_sub(nodes / 125).max(5) as u32;
        let percentage = self.percentage_of_nodes_to_score.unwrap_or_else(adaptive) as usize;
        if percentage >= 100 {
            return nodes;
        }
        (nodes * percentage / 100).max(MIN_FEASIBLE_NODES_TO_FIND)
    }

    /// The feasible node with the highest weighted score; ties are broken at
    /// random so equal nodes share the load.
    fn best(&mut self, pod: PodInfo, nodes: &[NodeInfo]) -> usize {
        self.totals.clear();
        self.totals.resize(self.feasible.len(), 0);
        for (plugin, weight) in self.profile.scores() {
            self.plugin_scores.clear();
            self.plugin_scores.extend(self.feasible.iter().map(|&i| plugin.score(pod, &nodes[i])));
            plugin.normalize(&mut self.plugin_scores);
            for (total, score) in self.totals.iter_mut().zip(&self.plugin_scores) {
                *total += weight * score;
            }
        }
        let mut rng = rand::rng();
        let (mut best, mut best_total, mut ties) = (0, i64::MIN, 0u32);
        for (position, &total) in self.totals.iter().enumerate() {
            if total > best_total {
                (best, best_total, ties) = (position, total, 1);
            } else if total == best_total {
                // Reservoir sampling: each of the tied nodes ends up chosen with equal chance.
                ties += 1;
                if rng.random_range(0..ties) == 0 {
                    best = position;
                }
            }
        }
        self.feasible[best]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node_info::NodeUsage;
    use crate::plugins::Reason;
    use crate::pod_usage::PodUsage;
    use crate::testing::{labelled_node, node, pod, with_node_selector};
    use std::collections::HashSet;
    use std::sync::Arc;

    fn info(node: rk_proto::v1::Node, running: &[rk_proto::v1::Pod]) -> NodeInfo {
        let mut usage = NodeUsage::default();
        running.iter().for_each(|p| usage.add(&PodUsage::new(p)));
        NodeInfo::new(Arc::new(node), usage)
    }

    fn place(algorithm: &mut Algorithm, pod: &rk_proto::v1::Pod, nodes: &[NodeInfo]) -> Result<usize, FitError> {
        let usage = PodUsage::new(pod);
        algorithm.schedule(PodInfo::new(pod, &usage), nodes)
    }

    #[test]
    fn picks_the_feasible_node_with_most_room() {
        let resources = [("cpu", "4"), ("memory", "8Gi"), ("pods", "10")];
        let nodes = [
            info(labelled_node("busy-ssd", &[("disktype", "ssd")], &resources), &[pod("a", &[("cpu", "3")], &[])]),
            info(labelled_node("idle-spinning", &[("disktype", "spinning")], &resources), &[]),
            info(labelled_node("idle-ssd", &[("disktype", "ssd")], &resources), &[]),
        ];
        let mut algorithm = Algorithm::new(Profile::default(), None);
        let ssd = with_node_selector(pod("p", &[("cpu", "500m")], &[]), &[("disktype", "ssd")]);
        for _ in 0..5 {
            assert_eq!(place(&mut algorithm, &ssd, &nodes), Ok(2));
        }
    }

    #[test]
    fn equal_nodes_share_the_load() {
        let nodes: Vec<_> = (0..4).map(|i| info(node(&format!("n{i}"), &[("pods", "10")]), &[])).collect();
        let mut algorithm = Algorithm::new(Profile::default(), None);
        let chosen: HashSet<usize> =
            (0..200).map(|_| place(&mut algorithm, &pod("p", &[], &[]), &nodes).unwrap()).collect();
        assert_eq!(chosen.len(), 4);
    }

    #[test]
    fn no_fit_counts_every_node_once() {
        let nodes = [
            info(labelled_node("spinning", &[("disktype", "spinning")], &[("cpu", "1"), ("pods", "10")]), &[]),
            info(labelled_node("small-ssd", &[("disktype", "ssd")], &[("cpu", "1"), ("pods", "10")]), &[]),
            info(labelled_node("other", &[], &[("cpu", "8"), ("pods", "10")]), &[]),
        ];
        let big = with_node_selector(pod("big", &[("cpu", "2")], &[]), &[("disktype", "ssd")]);
        let error = place(&mut Algorithm::new(Profile::default(), None), &big, &nodes).unwrap_err();
        assert_eq!(error.count(Reason::NodeSelectorMismatch), 2);
        assert_eq!(error.count(Reason::InsufficientCpu), 1);
        assert_eq!(
            error.to_string(),
            "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match node selector."
        );
    }

    #[test]
    fn large_clusters_stop_searching_early_and_rotate() {
        let nodes: Vec<_> = (0..1000).map(|i| info(node(&format!("n{i}"), &[("pods", "10")]), &[])).collect();
        let mut algorithm = Algorithm::new(Profile::default(), Some(10));
        assert_eq!(algorithm.nodes_to_find(1000), 100);
        let first = place(&mut algorithm, &pod("p", &[], &[]), &nodes).unwrap();
        assert!(first < 100, "chosen among the first 100 feasible nodes");
        let second = place(&mut algorithm, &pod("p", &[], &[]), &nodes).unwrap();
        assert!((100..200).contains(&second), "the next search starts where the last stopped");
        assert_eq!(Algorithm::new(Profile::default(), None).nodes_to_find(5000), 500);
        assert_eq!(Algorithm::new(Profile::default(), None).nodes_to_find(99), 99);
    }
}
