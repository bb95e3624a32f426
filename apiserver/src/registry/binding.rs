//! Binding a pod to a node: succeeds only while the pod is unbound, so two
//! schedulers racing for one pod can never both win.

use super::generic::Registry;
use super::{codec, keys};
use crate::error::ApiError;
use crate::storage::{guaranteed_update, StorageError};
use rk_proto::v1::{Binding, Pod, PodCondition};
use rk_proto::Resource;

/// Why a bind attempt stopped: the pod's state refuses it, or storage failed.
enum BindError {
    Refused(ApiError),
    Storage(StorageError),
}

impl From<StorageError> for BindError {
    fn from(error: StorageError) -> Self {
        BindError::Storage(error)
    }
}

impl Registry<Pod> {
    pub async fn bind(&self, binding: Binding) -> Result<Pod, ApiError> {
        let meta = binding.metadata.clone().unwrap_or_default();
        let target = binding.target.clone().unwrap_or_default();
        if target.name.is_empty() || !(target.kind.is_empty() || target.kind == "Node") {
            return Err(ApiError::BadRequest(format!(
                "binding for pod {:?}: target must name a Node (target.kind Node, target.name required)",
                meta.name
            )));
        }
        let namespace = if meta.namespace.is_empty() { "default" } else { meta.namespace.as_str() };
        let key = keys::object_key::<Pod>(namespace, &meta.name);
        let result = guaranteed_update(&*self.storage, &key, |current| {
            let mut pod: Pod = codec::decode(&current.value, current.mod_revision)
                .map_err(|e| BindError::Refused(ApiError::Unavailable(format!("corrupt pod: {e}"))))?;
            check_bindable(&pod, &meta.uid, &target.name).map_err(BindError::Refused)?;
            pod.spec.get_or_insert_with(Default::default).node_name = target.name.clone();
            mark_scheduled(&mut pod);
            Ok(codec::encode(&pod))
        })
        .await;
        match result {
            Ok(stored) => codec::decode(&stored.value, stored.mod_revision)
                .map_err(|e| ApiError::Unavailable(format!("corrupt pod: {e}"))),
            Err(BindError::Refused(error)) => Err(error),
            Err(BindError::Storage(error)) => Err(ApiError::from_storage(error, "pods", &meta.name)),
        }
    }
}

fn check_bindable(pod: &Pod, uid: &str, node: &str) -> Result<(), ApiError> {
    let meta = pod.metadata();
    if !uid.is_empty() && uid != meta.uid {
        return Err(ApiError::Conflict { plural: "pods", name: meta.name.clone() });
    }
    if !meta.deletion_timestamp.is_empty() {
        return Err(ApiError::FailedPrecondition(format!("pod {}/{} is being deleted", meta.namespace, meta.name)));
    }
    let bound_to = pod.spec.as_ref().map(|s| s.node_name.as_str()).unwrap_or_default();
    if !bound_to.is_empty() {
        return Err(ApiError::FailedPrecondition(format!(
            "pod {}/{} is already assigned to node {bound_to:?} (binding to {node:?} refused)",
            meta.namespace, meta.name
        )));
    }
    Ok(())
}

fn mark_scheduled(pod: &mut Pod) {
    let status = pod.status.get_or_insert_with(Default::default);
    status.conditions.retain(|c| c.r#type != "PodScheduled");
    status.conditions.push(PodCondition {
        r#type: "PodScheduled".into(),
        status: "True".into(),
        last_transition_time: rk_proto::time::now(),
        ..Default::default()
    });
}
