//! The answer for a pod that fits nowhere: how many nodes failed for each
//! reason, rendered exactly as Kubernetes renders it.

use crate::plugins::{Reason, Reasons};
use std::fmt;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FitError {
    /// Nodes considered (all of them: a pod is unschedulable only after every node failed).
    pub nodes: usize,
    /// Nodes that failed, per [`Reason`] (indexed by `Reason as usize`).
    counts: [u32; Reason::ALL.len()],
}

impl FitError {
    pub fn new(nodes: usize) -> FitError {
        FitError { nodes, ..Default::default() }
    }

    /// Counts one node that failed for `reasons`.
    pub fn add(&mut self, reasons: Reasons) {
        for reason in reasons.iter() {
            self.counts[reason as usize] += 1;
        }
    }

    pub fn count(&self, reason: Reason) -> u32 {
        self.counts[reason as usize]
    }
}

impl fmt::Display for FitError {
    /// `0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match node selector.`
    /// Like Kubernetes, the `"<count> <reason>"` strings are sorted as text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.nodes == 0 {
            return f.write_str("no nodes available to schedule pods");
        }
        let mut parts: Vec<String> = Reason::ALL
            .iter()
            .filter(|&&reason| self.count(reason) > 0)
            .map(|&reason| format!("{} {reason}", self.count(reason)))
            .collect();
        parts.sort();
        write!(f, "0/{} nodes are available: {}.", self.nodes, parts.join(", "))
    }
}

impl std::error::Error for FitError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_per_reason_sorted_as_kubernetes_does() {
        let mut error = FitError::new(3);
        error.add(Reason::NodeSelectorMismatch.into());
        error.add(Reason::NodeSelectorMismatch.into());
        error.add(Reason::InsufficientCpu.into());
        assert_eq!(
            error.to_string(),
            "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match node selector."
        );
    }

    #[test]
    fn a_node_short_of_several_resources_counts_for_each() {
        let mut error = FitError::new(12);
        for _ in 0..10 {
            error.add(Reason::NotReady.into());
        }
        error.add([Reason::InsufficientCpu, Reason::InsufficientMemory].into_iter().collect());
        error.add(Reason::Unschedulable.into());
        // Sorted as text: "1 ..." before "10 ..." (' ' sorts before '0'), whatever the reason.
        assert_eq!(
            error.to_string(),
            "0/12 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 node(s) were unschedulable, \
             10 node(s) were not ready."
        );
    }

    #[test]
    fn no_nodes_at_all() {
        assert_eq!(FitError::new(0).to_string(), "no nodes available to schedule pods");
    }
}
