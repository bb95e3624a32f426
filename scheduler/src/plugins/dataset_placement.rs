//! Where a pod's datasets want it: the node their `spec.primary` names (a
//! requirement) and the nodes that hold their data now (a preference).
//! Worked out once per placement from the dataset informer's store.

use rk_proto::v1::{Dataset, Pod};
use std::sync::Arc;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DatasetPlacement {
    /// `spec.primary` of each dataset that has one: the pod fits only there.
    pub required: Vec<String>,
    /// `status.node` of each dataset: the pod would rather go there.
    pub preferred: Vec<String>,
}

/// The placement of a pod without datasets.
pub static NO_DATASETS: DatasetPlacement = DatasetPlacement { required: Vec::new(), preferred: Vec::new() };

/// The names of the datasets the pod's volumes use.
pub fn dataset_names(pod: &Pod) -> impl Iterator<Item = &str> {
    pod.spec.iter().flat_map(|spec| &spec.volumes).filter_map(|volume| volume.dataset.as_ref()).map(|d| d.name.as_str())
}

/// The placement of `pod`, with `find(namespace, name)` looking its datasets up.
/// A dataset that does not exist (yet) asks for nothing.
pub fn placement(pod: &Pod, find: impl Fn(&str, &str) -> Option<Arc<Dataset>>) -> DatasetPlacement {
    let namespace = pod.metadata.as_ref().map(|m| m.namespace.as_str()).unwrap_or_default();
    let mut placement = DatasetPlacement::default();
    for dataset in dataset_names(pod).filter_map(|name| find(namespace, name)) {
        let primary = dataset.spec.as_ref().map(|s| s.primary.clone()).unwrap_or_default();
        let holder = dataset.status.as_ref().map(|s| s.node.clone()).unwrap_or_default();
        for (list, node) in [(&mut placement.required, primary), (&mut placement.preferred, holder)] {
            if !node.is_empty() && !list.contains(&node) {
                list.push(node);
            }
        }
    }
    placement
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rk_proto::v1::{DatasetSpec, DatasetStatus, DatasetVolumeSource, ObjectMeta, Volume};

    pub fn with_dataset(mut pod: Pod, name: &str) -> Pod {
        let volume = Volume {
            name: format!("v-{name}"),
            dataset: Some(DatasetVolumeSource { name: name.into() }),
            ..Default::default()
        };
        pod.spec.get_or_insert_with(Default::default).volumes.push(volume);
        pod
    }

    pub fn dataset(name: &str, primary: &str, node: &str) -> Arc<Dataset> {
        Arc::new(Dataset {
            metadata: Some(ObjectMeta { name: name.into(), namespace: "default".into(), ..Default::default() }),
            spec: Some(DatasetSpec { primary: primary.into(), ..Default::default() }),
            status: Some(DatasetStatus { node: node.into(), ..Default::default() }),
            ..Default::default()
        })
    }

    #[test]
    fn primaries_are_required_and_holders_preferred() {
        let datasets = [dataset("a", "n2", "n1"), dataset("b", "", "n3")];
        let find = |namespace: &str, name: &str| {
            datasets.iter().find(|d| namespace == "default" && d.metadata.as_ref().unwrap().name == name).cloned()
        };
        let pod = with_dataset(with_dataset(with_dataset(crate::testing::pod("p", &[], &[]), "a"), "b"), "missing");
        let placement = placement(&pod, find);
        assert_eq!(placement.required, ["n2"]);
        assert_eq!(placement.preferred, ["n1", "n3"]);
        assert_eq!(super::placement(&crate::testing::pod("p", &[], &[]), find), NO_DATASETS);
    }
}
