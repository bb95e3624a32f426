//! Turns informer changes into the keys of the Services to look at again.

use super::selection::{managed_selector, services_selecting};
use rk_client::{object_key, Change, Store, WorkQueue};
use rk_proto::v1::{Endpoints, Pod, Service};
use rk_proto::Resource;
use std::sync::Arc;

/// A pod change concerns the Services selecting it before and after the change.
pub fn pod_changed(
    queue: Arc<WorkQueue>,
    services: Arc<Store<Service>>,
) -> impl Fn(&Change<Pod>) + Send + Sync + 'static {
    move |change| {
        let pods = match change {
            Change::Added(pod) | Change::Deleted(pod) => vec![pod],
            Change::Updated { old, new } if old.metadata().resource_version != new.metadata().resource_version => {
                vec![old, new]
            }
            Change::Updated { .. } => return, // A resync: the Services' own resync covers it.
        };
        for pod in pods {
            for key in services_selecting(&services, pod) {
                queue.add(&key);
            }
        }
    }
}

/// Someone else changed or deleted the Endpoints of a Service with a
/// selector: put them back as they should be.
pub fn endpoints_changed(
    queue: Arc<WorkQueue>,
    services: Arc<Store<Service>>,
) -> impl Fn(&Change<Endpoints>) + Send + Sync + 'static {
    move |change| {
        if let Change::Added(_) = change {
            return;
        }
        let key = object_key(change.object().metadata());
        if services.get(&key).is_some_and(|service| managed_selector(&service).is_some()) {
            queue.add(&key);
        }
    }
}
