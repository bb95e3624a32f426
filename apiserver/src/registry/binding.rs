//! Binding a pod to a node: succeeds only while the pod is unbound, so two
//! schedulers racing for one pod can never both win.

use super::generic::{parse_revision, Registry};
use super::{codec, keys};
use crate::error::ApiError;
use crate::storage::StorageError;
use rk_proto::v1::{Binding, Pod, PodCondition};
use rk_proto::Resource;

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
        loop {
            let mut pod = self.get(&meta.namespace, &meta.name).await?;
            let pod_meta = pod.metadata().clone();
            if !meta.uid.is_empty() && meta.uid != pod_meta.uid {
                return Err(ApiError::Conflict { plural: "pods", name: meta.name });
            }
            if !pod_meta.deletion_timestamp.is_empty() {
                return Err(ApiError::FailedPrecondition(format!(
                    "pod {}/{} is being deleted",
                    pod_meta.namespace, pod_meta.name
                )));
            }
            let spec = pod.spec.get_or_insert_with(Default::default);
            if !spec.node_name.is_empty() {
                return Err(ApiError::FailedPrecondition(format!(
                    "pod {}/{} is already assigned to node {:?}",
                    pod_meta.namespace, meta.name, spec.node_name
                )));
            }
            spec.node_name = target.name.clone();
            mark_scheduled(&mut pod);
            let revision = parse_revision(&pod.metadata().resource_version)?;
            let key = keys::object_key::<Pod>(&pod.metadata().namespace, &meta.name);
            match self.storage.update(&key, codec::encode(&pod), revision).await {
                Ok(new_revision) => {
                    pod.metadata_mut().resource_version = new_revision.to_string();
                    return Ok(pod);
                }
                // The pod changed meanwhile (perhaps bound by someone else): look again.
                Err(StorageError::Conflict { .. }) => continue,
                Err(error) => return Err(ApiError::from_storage(error, "pods", &meta.name)),
            }
        }
    }
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
