//! A Service letting go of an address (deleted, no longer LoadBalancer, or
//! given another) may let a Service waiting for one have it: queue those.

use super::ingress::{held, is_load_balancer};
use rk_client::{object_key, Change, WorkQueue};
use rk_proto::v1::Service;
use rk_proto::Resource;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

pub fn address_freed(queue: Arc<WorkQueue>) -> impl Fn(&Change<Service>) + Send + Sync + 'static {
    // LoadBalancer Services with no address yet, kept from the changes seen.
    let waiting = Mutex::new(BTreeSet::new());
    move |change| {
        let key = object_key(change.object().metadata());
        let (before, after) = match change {
            Change::Added(new) => (Vec::new(), held(new)),
            Change::Updated { old, new } => (held(old), held(new)),
            Change::Deleted(old) => (held(old), Vec::new()),
        };
        let mut waiting = waiting.lock().unwrap();
        match change {
            Change::Added(new) | Change::Updated { new, .. } if is_load_balancer(new) && after.is_empty() => {
                waiting.insert(key);
            }
            _ => {
                waiting.remove(&key);
            }
        }
        if !before.iter().all(|ip| after.contains(ip)) {
            for key in waiting.iter() {
                queue.add(key);
            }
        }
    }
}
