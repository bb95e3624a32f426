//! Owner references between a replication controller and its pods.

use rk_proto::v1::{ObjectMeta, OwnerReference, ReplicationController};
use rk_proto::Resource;

/// The reference that makes `rc` the controller of a pod. blockOwnerDeletion
/// lets a foreground deletion of the controller wait for the pod.
pub fn controller_reference(rc: &ReplicationController) -> OwnerReference {
    let meta = rc.metadata();
    OwnerReference {
        api_version: rk_proto::API_VERSION.into(),
        kind: ReplicationController::KIND.into(),
        name: meta.name.clone(),
        uid: meta.uid.clone(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// The owner reference marked `controller: true`; an object has at most one.
pub fn controller_of(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references.iter().find(|reference| reference.controller == Some(true))
}
