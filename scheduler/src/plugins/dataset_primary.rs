//! Filter: a pod using a dataset whose `spec.primary` names a node may run
//! only on that node (the data is moved there).

use super::{Filter, PodInfo, Reason, Reasons};
use crate::node_info::NodeInfo;

pub struct DatasetPrimary;

impl Filter for DatasetPrimary {
    fn filter(&self, pod: PodInfo, node: &NodeInfo) -> Reasons {
        if pod.datasets.required.iter().all(|primary| primary == node.name()) {
            Reasons::NONE
        } else {
            Reason::DatasetPrimaryMismatch.into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::dataset_placement::DatasetPlacement;
    use crate::pod_usage::PodUsage;
    use crate::testing::{node, pod};
    use std::sync::Arc;

    #[test]
    fn only_the_primary_fits() {
        let pod = pod("p", &[], &[]);
        let usage = PodUsage::new(&pod);
        let n1 = NodeInfo::new(Arc::new(node("n1", &[("pods", "10")])), Default::default());
        let n2 = NodeInfo::new(Arc::new(node("n2", &[("pods", "10")])), Default::default());
        let primary = DatasetPlacement { required: vec!["n2".into()], preferred: vec!["n1".into()] };
        let info = PodInfo::new(&pod, &usage).with_datasets(&primary);
        assert_eq!(DatasetPrimary.filter(info, &n1), Reason::DatasetPrimaryMismatch.into());
        assert!(DatasetPrimary.filter(info, &n2).is_empty());
        assert!(DatasetPrimary.filter(PodInfo::new(&pod, &usage), &n1).is_empty(), "no datasets, no constraint");
        assert_eq!(Reason::DatasetPrimaryMismatch.to_string(), "node(s) didn't match dataset primary");
    }
}
