//! Whether a pod's containers may start here: every dataset it uses must be
//! held by this node and Ready. Until then the pod waits with a reason
//! (DatasetNotReady, or DatasetUnavailable with the dataset's message); it
//! never starts on an empty or half-moved directory.

use super::transfer::DatasetKey;
use crate::pods::status::Waiting;
use rk_proto::v1::{Dataset, Pod};
use std::sync::Arc;

/// The datasets `pod` uses, as keys in its namespace.
pub fn datasets_of(pod: &Pod) -> Vec<DatasetKey> {
    let namespace = pod.metadata.as_ref().map(|m| m.namespace.clone()).unwrap_or_default();
    let volumes = pod.spec.iter().flat_map(|spec| &spec.volumes);
    let mut keys: Vec<DatasetKey> = volumes
        .filter_map(|v| v.dataset.as_ref())
        .map(|d| DatasetKey::new(namespace.clone(), d.name.clone()))
        .collect();
    keys.dedup();
    keys
}

/// The pod's dataset keys when all are Ready on node `me`; else why it waits.
pub fn check(
    pod: &Pod,
    me: &str,
    find: impl Fn(&DatasetKey) -> Option<Arc<Dataset>>,
) -> Result<Vec<DatasetKey>, Waiting> {
    let keys = datasets_of(pod);
    for key in &keys {
        let waiting = |reason: &str, message: String| Waiting { reason: reason.into(), message };
        let Some(dataset) = find(key) else {
            return Err(waiting("DatasetNotReady", format!("dataset {:?} not found", key.name)));
        };
        let status = dataset.status.clone().unwrap_or_default();
        let name = &key.name;
        let why = match (status.phase.as_str(), status.node == me) {
            ("Ready", true) => continue,
            ("Unavailable", _) => {
                return Err(waiting(
                    "DatasetUnavailable",
                    format!("dataset {name:?} is unavailable: {}", status.message),
                ))
            }
            ("Moving", _) if status.target_node == me => {
                format!("dataset {name:?} is moving here from node {}", status.node)
            }
            ("Moving", _) => format!("dataset {name:?} is moving to node {}", status.target_node),
            ("Pending", true) => format!("dataset {name:?} is being created on this node"),
            _ if status.node.is_empty() => format!("dataset {name:?} is not placed on a node yet"),
            (phase, _) => format!("dataset {name:?} is on node {} ({phase})", status.node),
        };
        return Err(waiting("DatasetNotReady", why));
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::v1::{DatasetStatus, DatasetVolumeSource, ObjectMeta, PodSpec, Volume};

    fn pod() -> Pod {
        Pod {
            metadata: Some(ObjectMeta { name: "p".into(), namespace: "default".into(), ..Default::default() }),
            spec: Some(PodSpec {
                volumes: vec![Volume {
                    name: "v".into(),
                    dataset: Some(DatasetVolumeSource { name: "db".into() }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn verdict(node: &str, phase: &str, target: &str, message: &str) -> Result<Vec<DatasetKey>, Waiting> {
        let dataset = Arc::new(Dataset {
            status: Some(DatasetStatus {
                node: node.into(),
                phase: phase.into(),
                target_node: target.into(),
                message: message.into(),
                ..Default::default()
            }),
            ..Default::default()
        });
        check(&pod(), "me", |_| Some(Arc::clone(&dataset)))
    }

    #[test]
    fn starts_only_on_a_ready_dataset_held_here() {
        assert_eq!(verdict("me", "Ready", "", ""), Ok(vec![DatasetKey::new("default", "db")]));
        let wait = |r: Result<Vec<DatasetKey>, Waiting>| {
            let w = r.unwrap_err();
            (w.reason, w.message)
        };
        assert_eq!(
            wait(verdict("n1", "Moving", "me", "")),
            ("DatasetNotReady".into(), "dataset \"db\" is moving here from node n1".into())
        );
        assert_eq!(
            wait(verdict("n1", "Unavailable", "", "node n1 is not ready")),
            ("DatasetUnavailable".into(), "dataset \"db\" is unavailable: node n1 is not ready".into())
        );
        assert_eq!(wait(verdict("me", "Pending", "", "")).1, "dataset \"db\" is being created on this node");
        assert_eq!(wait(verdict("n1", "Ready", "", "")).1, "dataset \"db\" is on node n1 (Ready)");
        assert_eq!(wait(verdict("me", "Moving", "n2", "")).1, "dataset \"db\" is moving to node n2");
        assert_eq!(wait(verdict("", "", "", "")).1, "dataset \"db\" is not placed on a node yet");
        assert_eq!(wait(check(&pod(), "me", |_| None)).1, "dataset \"db\" not found");
        assert_eq!(check(&Pod::default(), "me", |_| None), Ok(vec![]));
    }
}
