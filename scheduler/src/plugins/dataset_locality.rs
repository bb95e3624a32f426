//! Score: prefer the node that holds the pod's datasets now, so a pod that
//! may run anywhere goes where its data is and nothing moves. Filters
//! (nodeSelector, a dataset's primary) still decide where it may run.

use super::{PodInfo, Score, MAX_SCORE};
use crate::node_info::NodeInfo;

/// Weight of this score beside the others (each at most `MAX_SCORE`): the
/// data's node wins over a less loaded one.
pub const WEIGHT: i64 = 10;

pub struct DatasetLocality;

impl Score for DatasetLocality {
    /// `MAX_SCORE` on a node holding one of the pod's datasets, else 0.
    fn score(&self, pod: PodInfo, node: &NodeInfo) -> i64 {
        if pod.datasets.preferred.iter().any(|holder| holder == node.name()) {
            MAX_SCORE
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algorithm::Algorithm;
    use crate::plugins::dataset_placement::DatasetPlacement;
    use crate::plugins::Profile;
    use crate::pod_usage::PodUsage;
    use crate::testing::{labelled_node, pod, with_node_selector};
    use std::sync::Arc;

    #[test]
    fn the_holder_wins_unless_the_selector_says_otherwise() {
        let resources = [("cpu", "4"), ("memory", "8Gi"), ("pods", "10")];
        let nodes: Vec<NodeInfo> = [("n1", "spinning"), ("n2", "ssd"), ("n3", "ssd")]
            .iter()
            .map(|(name, disk)| {
                NodeInfo::new(Arc::new(labelled_node(name, &[("disktype", disk)], &resources)), Default::default())
            })
            .collect();
        let held = DatasetPlacement { required: vec![], preferred: vec!["n1".into()] };
        let mut algorithm = Algorithm::new(Profile::default(), None);
        let free = pod("p", &[], &[]);
        let usage = PodUsage::new(&free);
        for _ in 0..20 {
            assert_eq!(algorithm.schedule(PodInfo::new(&free, &usage).with_datasets(&held), &nodes), Ok(0));
        }
        let ssd = with_node_selector(pod("p", &[], &[]), &[("disktype", "ssd")]);
        let chosen = algorithm.schedule(PodInfo::new(&ssd, &usage).with_datasets(&held), &nodes).unwrap();
        assert_ne!(chosen, 0, "nodeSelector wins over the data's node");
        assert_eq!(DatasetLocality.score(PodInfo::new(&free, &usage), &nodes[0]), 0);
    }
}
