//! Turns informer changes into work: which controllers to look at again, and
//! which of their expectations a pod change fulfils.

use super::expectations::Expectations;
use super::owner::controller_of;
use rk_client::{object_key, Change, Store, WorkQueue};
use rk_proto::labels::LabelSelector;
use rk_proto::v1::{OwnerReference, Pod, ReplicationController};
use rk_proto::Resource;
use std::sync::Arc;

/// Every change of a controller queues it; a deleted one's expectations are dropped.
pub fn controller_changed(
    queue: Arc<WorkQueue>,
    expectations: Arc<Expectations>,
) -> impl Fn(&Change<ReplicationController>) + Send + Sync + 'static {
    move |change| {
        let key = object_key(change.object().metadata());
        if let Change::Deleted(_) = change {
            expectations.forget(&key);
        }
        queue.add(&key);
    }
}

/// Routes pod changes to the controllers concerned.
pub struct PodChanges {
    pub queue: Arc<WorkQueue>,
    pub expectations: Arc<Expectations>,
    pub controllers: Arc<Store<ReplicationController>>,
}

impl PodChanges {
    pub fn handle(&self, change: &Change<Pod>) {
        match change {
            Change::Added(pod) => self.added(pod),
            Change::Updated { old, new } => self.updated(old, new),
            Change::Deleted(pod) => self.gone(pod),
        }
    }

    fn added(&self, pod: &Pod) {
        if !pod.metadata().deletion_timestamp.is_empty() {
            // Seen for the first time while already being deleted (after a relist).
            return self.gone(pod);
        }
        match controller_of(pod.metadata()) {
            Some(owner) => {
                if let Some(key) = self.resolve(&pod.metadata().namespace, owner) {
                    self.expectations.creations_observed(&key, 1);
                    self.queue.add(&key);
                }
            }
            None => self.queue_selecting(pod),
        }
    }

    fn updated(&self, old: &Pod, new: &Pod) {
        if old.metadata().resource_version == new.metadata().resource_version {
            return; // A resync: the controllers' own resync covers it.
        }
        let labels_changed = old.metadata().labels != new.metadata().labels;
        if !new.metadata().deletion_timestamp.is_empty() {
            // A graceful deletion has begun: for its controller the pod is gone now.
            self.gone(new);
            if labels_changed {
                self.gone(old);
            }
            return;
        }
        let (old_owner, new_owner) = (controller_of(old.metadata()), controller_of(new.metadata()));
        let namespace = &new.metadata().namespace;
        if let Some(old_owner) = old_owner.filter(|_| old_owner != new_owner) {
            self.queue_owner(namespace, old_owner);
        }
        match new_owner {
            Some(owner) => self.queue_owner(namespace, owner),
            None if labels_changed || old_owner.is_some() => self.queue_selecting(new),
            None => {}
        }
    }

    fn gone(&self, pod: &Pod) {
        let Some(owner) = controller_of(pod.metadata()) else { return };
        if let Some(key) = self.resolve(&pod.metadata().namespace, owner) {
            self.expectations.deletion_observed(&key, &object_key(pod.metadata()));
            self.queue.add(&key);
        }
    }

    fn queue_owner(&self, namespace: &str, owner: &OwnerReference) {
        if let Some(key) = self.resolve(namespace, owner) {
            self.queue.add(&key);
        }
    }

    /// The key of the controller `owner` names, if it is a replication
    /// controller we know with that uid (not a same-named successor).
    fn resolve(&self, namespace: &str, owner: &OwnerReference) -> Option<String> {
        if owner.kind != ReplicationController::KIND {
            return None;
        }
        let key = format!("{namespace}/{}", owner.name);
        let rc = self.controllers.get(&key)?;
        (rc.metadata().uid == owner.uid).then_some(key)
    }

    /// Queues the controllers whose selector matches an orphan, so they can adopt it.
    fn queue_selecting(&self, pod: &Pod) {
        let meta = pod.metadata();
        for rc in self.controllers.list() {
            let selector = rc.spec.as_ref().map(|spec| LabelSelector::from_map(&spec.selector));
            if rc.metadata().namespace == meta.namespace && selector.is_some_and(|s| s.matches(&meta.labels)) {
                self.queue.add(&object_key(rc.metadata()));
            }
        }
    }
}
