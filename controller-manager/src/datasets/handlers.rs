//! What queues a dataset besides its own changes: a change of a pod using it
//! (placed, moved, deleted) and a node of its becoming ready or not.

use super::controller::is_ready;
use super::users::datasets_of;
use rk_client::{object_key, Change, Store, WorkQueue};
use rk_proto::v1::{Dataset, Node, Pod};
use rk_proto::Resource;
use std::sync::Arc;

pub fn pod_changed(queue: Arc<WorkQueue>) -> impl Fn(&Change<Pod>) + Send + Sync + 'static {
    move |change| {
        let pods = match change {
            Change::Updated { old, new } => vec![old, new],
            Change::Added(pod) | Change::Deleted(pod) => vec![pod],
        };
        for pod in pods {
            let namespace = &pod.metadata().namespace;
            for name in datasets_of(pod) {
                queue.add(&format!("{namespace}/{name}"));
            }
        }
    }
}

pub fn node_changed(
    queue: Arc<WorkQueue>,
    datasets: Arc<Store<Dataset>>,
) -> impl Fn(&Change<Node>) + Send + Sync + 'static {
    move |change| {
        let readiness_changed = match change {
            Change::Updated { old, new } => is_ready(Some(old)) != is_ready(Some(new)),
            _ => true,
        };
        if !readiness_changed {
            return;
        }
        let node = &change.object().metadata().name;
        for dataset in datasets.list() {
            let status = dataset.status.clone().unwrap_or_default();
            if &status.node == node || &status.target_node == node {
                queue.add(&object_key(dataset.metadata()));
            }
        }
    }
}
