//! What the informers' changes mean to the cache and the queue.

use crate::pod_usage::is_terminated;
use crate::scheduler::Shared;
use rk_client::{object_key, Change};
use rk_proto::v1::{Dataset, Node, Pod, Service};
use rk_proto::Resource;
use std::sync::Arc;

pub fn on_node_change(shared: Arc<Shared>) -> impl Fn(&Change<Node>) + Send + Sync {
    move |change| match change {
        Change::Added(node) | Change::Updated { new: node, .. } => {
            let changed = shared.cache.lock().unwrap().set_node(Arc::clone(node));
            if changed {
                shared.queue.move_all();
            }
        }
        Change::Deleted(node) => shared.cache.lock().unwrap().remove_node(&node.metadata().name),
    }
}

/// Bound pods go to the cache; unbound ones that are not being deleted go to
/// the queue; finished and deleted pods leave both and free their node.
pub fn on_pod_change(shared: Arc<Shared>) -> impl Fn(&Change<Pod>) + Send + Sync {
    move |change| {
        let pod = change.object();
        let key = object_key(pod.metadata());
        let bound = pod.spec.as_ref().is_some_and(|spec| !spec.node_name.is_empty());
        if matches!(change, Change::Deleted(_)) || is_terminated(pod) {
            let freed = shared.cache.lock().unwrap().remove_pod(&key);
            shared.queue.remove(&key);
            if freed {
                shared.queue.move_all();
            }
        } else if bound {
            shared.cache.lock().unwrap().add_pod(Arc::clone(pod));
            shared.queue.remove(&key);
        } else if !pod.metadata().deletion_timestamp.is_empty() {
            shared.queue.remove(&key);
        } else if let Change::Updated { old, new } = change {
            // Our own status writes change nothing that placement depends on.
            if old.spec != new.spec || old.metadata().labels != new.metadata().labels {
                shared.queue.update(&key);
            } else {
                shared.queue.add(&key);
            }
        } else {
            shared.queue.add(&key);
        }
    }
}

pub fn on_service_change(shared: Arc<Shared>) -> impl Fn(&Change<Service>) + Send + Sync {
    move |change| match change {
        Change::Added(service) | Change::Updated { new: service, .. } => {
            shared.cache.lock().unwrap().set_service(service)
        }
        Change::Deleted(service) => shared.cache.lock().unwrap().remove_service(service),
    }
}

/// A dataset whose primary or holder changed may let a waiting pod fit (or
/// prefer another node): the unschedulable pods get another try.
pub fn on_dataset_change(shared: Arc<Shared>) -> impl Fn(&Change<Dataset>) + Send + Sync {
    move |change| {
        let placement =
            |d: &Dataset| (d.spec.as_ref().map(|s| s.primary.clone()), d.status.as_ref().map(|s| s.node.clone()));
        let moved = match change {
            Change::Updated { old, new } => placement(old) != placement(new),
            _ => true,
        };
        if moved {
            shared.queue.move_all();
        }
    }
}
