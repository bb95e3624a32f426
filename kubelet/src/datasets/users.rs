//! Which datasets running containers on this node use: the transfer
//! service's in-use predicate, which holds back a move's final pass while
//! the old pod still runs. A pod counts from the moment the pod sync lets
//! its containers start until they have all stopped; until the kubelet has
//! looked at what already runs (a restart), every dataset counts as in use.
//! It is also the claim that keeps two pods on this node from mounting one
//! dataset at once: a second pod waits (DatasetInUse) until the first stopped.

use super::transfer::DatasetKey;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

struct User {
    pod: String,
    datasets: Vec<DatasetKey>,
    /// A pod gone from the API whose containers a restarted kubelet found
    /// running: its datasets are unknown, so it counts as using every dataset
    /// of this namespace until its containers are removed (`stop`).
    orphan_of: Option<String>,
}

impl User {
    fn uses(&self, key: &DatasetKey) -> bool {
        self.datasets.contains(key) || self.orphan_of.as_ref().is_some_and(|ns| *ns == key.namespace)
    }
}

#[derive(Default)]
pub struct DatasetUsers {
    /// By pod uid.
    by_pod: Mutex<HashMap<String, User>>,
    synced: AtomicBool,
}

/// A dataset another pod on this node uses: which, and that pod's name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InUse {
    pub dataset: DatasetKey,
    pub pod: String,
}

impl DatasetUsers {
    /// The pod with this uid (named `pod`) runs containers using `datasets`
    /// (counted as found, even beside another user).
    pub fn start(&self, pod_uid: &str, pod: &str, datasets: Vec<DatasetKey>) {
        if !datasets.is_empty() {
            let user = User { pod: pod.to_string(), datasets, orphan_of: None };
            self.by_pod.lock().unwrap().insert(pod_uid.to_string(), user);
        }
    }

    /// Containers of a pod the API no longer has (`namespace/pod`) still run:
    /// they count as using every dataset of the namespace until `stop`.
    pub fn start_orphan(&self, pod_uid: &str, namespace: &str, pod: &str) {
        let user = User { pod: pod.to_string(), datasets: Vec::new(), orphan_of: Some(namespace.to_string()) };
        self.by_pod.lock().unwrap().insert(pod_uid.to_string(), user);
    }

    /// The pod may run containers using `datasets` unless another pod uses
    /// one of them: then that one, and nothing is recorded.
    pub fn claim(&self, pod_uid: &str, pod: &str, datasets: Vec<DatasetKey>) -> Result<(), InUse> {
        let mut by_pod = self.by_pod.lock().unwrap();
        let mut others = by_pod.iter().filter(|(uid, _)| uid.as_str() != pod_uid);
        let taken = others.find_map(|(_, user)| {
            let dataset = datasets.iter().find(|key| user.uses(key))?;
            Some(InUse { dataset: dataset.clone(), pod: user.pod.clone() })
        });
        if let Some(in_use) = taken {
            return Err(in_use);
        }
        if !datasets.is_empty() {
            by_pod.insert(pod_uid.to_string(), User { pod: pod.to_string(), datasets, orphan_of: None });
        }
        Ok(())
    }

    /// The pod's containers have all stopped.
    pub fn stop(&self, pod_uid: &str) {
        self.by_pod.lock().unwrap().remove(pod_uid);
    }

    /// Forgets pods not in `alive` (gone from the node); orphans stay until
    /// their containers are removed.
    pub fn retain(&self, alive: impl Fn(&str) -> bool) {
        self.by_pod.lock().unwrap().retain(|uid, user| user.orphan_of.is_some() || alive(uid));
    }

    /// What already ran has been counted.
    pub fn mark_synced(&self) {
        self.synced.store(true, Ordering::SeqCst);
    }

    pub fn in_use(&self, key: &DatasetKey) -> bool {
        !self.synced.load(Ordering::SeqCst) || self.by_pod.lock().unwrap().values().any(|user| user.uses(key))
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
        users.start("uid-1", "a", vec![db.clone()]);
        assert!(users.in_use(&db));
        assert!(!users.in_use(&DatasetKey::new("other", "db")));
        users.stop("uid-1");
        assert!(!users.in_use(&db));
        users.start("uid-2", "b", vec![db.clone()]);
        users.retain(|uid| uid != "uid-2");
        assert!(!users.in_use(&db));
    }

    #[test]
    fn a_second_pod_waits_for_the_first_to_stop() {
        let users = DatasetUsers::default();
        users.mark_synced();
        let (db, logs) = (DatasetKey::new("default", "db"), DatasetKey::new("default", "logs"));
        assert_eq!(users.claim("uid-1", "first", vec![db.clone()]), Ok(()));
        assert_eq!(users.claim("uid-1", "first", vec![db.clone()]), Ok(()), "a pod's own claim again");
        assert_eq!(
            users.claim("uid-2", "second", vec![logs.clone(), db.clone()]),
            Err(InUse { dataset: db.clone(), pod: "first".into() })
        );
        assert!(!users.in_use(&logs), "a refused claim records nothing");
        assert_eq!(users.claim("uid-3", "third", vec![logs.clone()]), Ok(()));
        users.stop("uid-1");
        assert_eq!(users.claim("uid-2", "second", vec![db.clone()]), Ok(()));
        assert_eq!(users.claim("uid-4", "fourth", vec![]), Ok(()));
    }

    #[test]
    fn an_orphan_uses_its_namespace_until_its_containers_are_removed() {
        let users = DatasetUsers::default();
        users.start_orphan("uid-9", "default", "gone");
        users.mark_synced();
        let (db, other) = (DatasetKey::new("default", "db"), DatasetKey::new("other", "db"));
        assert!(users.in_use(&db) && !users.in_use(&other));
        assert_eq!(
            users.claim("uid-1", "new", vec![db.clone()]),
            Err(InUse { dataset: db.clone(), pod: "gone".into() })
        );
        users.retain(|_| false);
        assert!(users.in_use(&db), "kept until its containers are removed");
        users.stop("uid-9");
        assert!(!users.in_use(&db));
    }
}
