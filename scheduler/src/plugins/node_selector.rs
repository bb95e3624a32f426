//! Filter: a pod's nodeSelector restricts it to nodes carrying every one of
//! its labels.

use super::{Filter, PodInfo, Reason, Reasons};
use crate::node_info::NodeInfo;
use rk_proto::v1::{Node, Pod};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

/// Whether the node has every label of the pod's `spec.nodeSelector` with the same value.
pub fn matches_node_selector(pod: &Pod, node: &Node) -> bool {
    let Some(spec) = &pod.spec else { return true };
    let labels = node.metadata.as_ref().map(|meta| &meta.labels);
    spec.node_selector.iter().all(|(key, value)| labels.and_then(|labels| labels.get(key)) == Some(value))
}

/// A one-word Bloom filter of label pairs: one bit per `key=value`. A node
/// whose mask lacks a bit of a pod's selector mask cannot match the selector,
/// which rejects most nodes without a look at their labels.
pub fn label_mask<'a>(labels: impl IntoIterator<Item = (&'a String, &'a String)>) -> u64 {
    labels.into_iter().fold(0, |mask, pair| {
        let mut hasher = DefaultHasher::new();
        pair.hash(&mut hasher);
        mask | 1 << (hasher.finish() % 64)
    })
}

pub struct NodeSelector;

impl Filter for NodeSelector {
    fn filter(&self, pod: PodInfo, node: &NodeInfo) -> Reasons {
        let may_match = node.label_mask() & pod.selector_mask == pod.selector_mask;
        if may_match && matches_node_selector(pod.pod, node.node()) {
            Reasons::NONE
        } else {
            Reason::NodeSelectorMismatch.into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{labelled_node, node, pod, with_node_selector};

    #[test]
    fn every_selector_label_must_match() {
        let ssd = labelled_node("n1", &[("disktype", "ssd"), ("zone", "a")], &[]);
        let pick = |selector: &[(&str, &str)]| with_node_selector(pod("p", &[], &[]), selector);
        assert!(matches_node_selector(&pick(&[]), &ssd));
        assert!(matches_node_selector(&pick(&[("disktype", "ssd")]), &ssd));
        assert!(matches_node_selector(&pick(&[("disktype", "ssd"), ("zone", "a")]), &ssd));
        assert!(!matches_node_selector(&pick(&[("disktype", "ssd"), ("zone", "b")]), &ssd));
        assert!(!matches_node_selector(&pick(&[("disktype", "spinning")]), &ssd));
        assert!(!matches_node_selector(&pick(&[("disktype", "ssd")]), &node("bare", &[])));
    }

    #[test]
    fn the_filter_agrees_with_the_exact_match() {
        use crate::pod_usage::PodUsage;
        use std::sync::Arc;
        let labels = [("disktype", "ssd"), ("zone", "a"), ("rack", "r7"), ("kubernetes.io/hostname", "n1")];
        let node = NodeInfo::new(Arc::new(labelled_node("n1", &labels, &[])), Default::default());
        let selectors: [&[(&str, &str)]; 6] = [
            &[],
            &[("disktype", "ssd")],
            &[("zone", "a"), ("rack", "r7")],
            &[("disktype", "spinning")],
            &[("zone", "b"), ("disktype", "ssd")],
            &[("gpu", "true")],
        ];
        for selector in selectors {
            let pod = with_node_selector(pod("p", &[], &[]), selector);
            let usage = PodUsage::new(&pod);
            let exact = matches_node_selector(&pod, node.node());
            assert_eq!(NodeSelector.filter(PodInfo::new(&pod, &usage), &node).is_empty(), exact, "{selector:?}");
        }
    }
}
