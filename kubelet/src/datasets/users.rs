//! Which datasets running containers on this node use: the transfer
//! service's in-use predicate, which holds back a move's final pass while
//! the old pod still runs. A pod counts from the moment the pod sync lets
//! its containers start until they have all stopped; until the kubelet has
//! looked at what already runs (a restart), every dataset counts as in use.

use super::transfer::DatasetKey;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

#[derive(Default)]
pub struct DatasetUsers {
    by_pod: Mutex<HashMap<String, Vec<DatasetKey>>>,
    synced: AtomicBool,
}

impl DatasetUsers {
    /// The pod with this uid may run containers using `datasets`.
    pub fn start(&self, pod_uid: &str, datasets: Vec<DatasetKey>) {
        if !datasets.is_empty() {
            self.by_pod.lock().unwrap().insert(pod_uid.to_string(), datasets);
        }
    }

    /// The pod's containers have all stopped.
    pub fn stop(&self, pod_uid: &str) {
        self.by_pod.lock().unwrap().remove(pod_uid);
    }

    /// Forgets pods not in `alive` (gone from the node).
    pub fn retain(&self, alive: impl Fn(&str) -> bool) {
        self.by_pod.lock().unwrap().retain(|uid, _| alive(uid));
    }

    /// What already ran has been counted.
    pub fn mark_synced(&self) {
        self.synced.store(true, Ordering::SeqCst);
    }

    pub fn in_use(&self, key: &DatasetKey) -> bool {
        !self.synced.load(Ordering::SeqCst) || self.by_pod.lock().unwrap().values().any(|keys| keys.contains(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_use_from_start_to_stop_and_always_before_the_first_look() {
        let users = DatasetUsers::default();
        let db = DatasetKey::new("default", "db");
        assert!(users.in_use(&db), "nothing known yet");
        users.mark_synced();
        assert!(!users.in_use(&db));
        users.start("uid-1", vec![db.clone()]);
        assert!(users.in_use(&db));
        assert!(!users.in_use(&DatasetKey::new("other", "db")));
        users.stop("uid-1");
        assert!(!users.in_use(&db));
        users.start("uid-2", vec![db.clone()]);
        users.retain(|uid| uid != "uid-2");
        assert!(!users.in_use(&db));
    }
}
