//! The garbage collector's view of ownership, fed by its informers: which
//! objects exist (by uid) and who depends on whom, so that an owner's
//! disappearance finds its dependents without scanning every object.

use super::object_ref::ObjectRef;
use rk_proto::v1::OwnerReference;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

struct Entry {
    uid: String,
    owners: Vec<OwnerReference>,
}

#[derive(Default)]
struct Inner {
    objects: HashMap<ObjectRef, Entry>,
    /// Owner uid → the objects whose ownerReferences name it.
    dependents: HashMap<String, HashSet<ObjectRef>>,
}

impl Inner {
    fn unlink(&mut self, object: &ObjectRef, entry: &Entry) {
        for owner in &entry.owners {
            if let Some(dependents) = self.dependents.get_mut(&owner.uid) {
                dependents.remove(object);
                if dependents.is_empty() {
                    self.dependents.remove(&owner.uid);
                }
            }
        }
    }
}

#[derive(Default)]
pub struct Graph {
    inner: Mutex<Inner>,
}

impl Graph {
    /// Records `object` as it is now.
    pub fn observe(&self, object: ObjectRef, uid: &str, owners: &[OwnerReference]) {
        let mut inner = self.inner.lock().unwrap();
        if let Some(old) = inner.objects.remove(&object) {
            inner.unlink(&object, &old);
        }
        for owner in owners {
            inner.dependents.entry(owner.uid.clone()).or_default().insert(object.clone());
        }
        inner.objects.insert(object, Entry { uid: uid.into(), owners: owners.to_vec() });
    }

    /// Forgets `object` if the graph holds this incarnation of it (`uid`), and
    /// returns the objects that named it as an owner.
    pub fn forget(&self, object: &ObjectRef, uid: &str) -> Vec<ObjectRef> {
        let mut inner = self.inner.lock().unwrap();
        if inner.objects.get(object).is_some_and(|entry| entry.uid == uid) {
            let entry = inner.objects.remove(object).expect("checked above");
            inner.unlink(object, &entry);
        }
        inner.dependents.get(uid).map(|d| d.iter().cloned().collect()).unwrap_or_default()
    }

    /// Whether the informers have seen this incarnation of `object`. A miss
    /// proves nothing: the cache may not have caught up yet.
    pub fn contains(&self, object: &ObjectRef, uid: &str) -> bool {
        self.inner.lock().unwrap().objects.get(object).is_some_and(|entry| entry.uid == uid)
    }

    /// The ownerReferences of `object` as last seen (none when it is not known).
    pub fn owners(&self, object: &ObjectRef) -> Vec<OwnerReference> {
        self.inner.lock().unwrap().objects.get(object).map(|entry| entry.owners.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(kind: &str, name: &str) -> ObjectRef {
        ObjectRef { kind: kind.into(), namespace: "ns".into(), name: name.into() }
    }

    fn owned_by(uid: &str) -> Vec<OwnerReference> {
        vec![OwnerReference {
            kind: "ReplicationController".into(),
            name: "rc".into(),
            uid: uid.into(),
            ..Default::default()
        }]
    }

    #[test]
    fn a_forgotten_owner_reports_its_current_dependents() {
        let graph = Graph::default();
        let (rc, a, b) = (object("ReplicationController", "rc"), object("Pod", "a"), object("Pod", "b"));
        graph.observe(rc.clone(), "rc-1", &[]);
        graph.observe(a.clone(), "a-1", &owned_by("rc-1"));
        graph.observe(b.clone(), "b-1", &owned_by("rc-1"));
        graph.observe(b.clone(), "b-1", &[]); // released
        assert!(graph.contains(&rc, "rc-1"));
        assert!(!graph.contains(&rc, "rc-0"), "another incarnation of the same name");
        assert_eq!(graph.forget(&rc, "rc-1"), vec![a.clone()]);
        assert!(!graph.contains(&rc, "rc-1"));
        assert_eq!(graph.owners(&a), owned_by("rc-1"));
        graph.forget(&a, "a-1");
        assert!(graph.owners(&a).is_empty());
        assert!(graph.inner.lock().unwrap().dependents.is_empty(), "no index entries leak");
    }

    #[test]
    fn forgetting_an_older_incarnation_keeps_the_current_one() {
        let graph = Graph::default();
        let rc = object("ReplicationController", "rc");
        graph.observe(rc.clone(), "rc-2", &[]);
        graph.forget(&rc, "rc-1");
        assert!(graph.contains(&rc, "rc-2"));
    }
}
