//! Creating and deleting a controller's pods, with the events Kubernetes
//! records for them.

use super::owner::controller_reference;
use rk_client::events::EventType;
use rk_client::{Client, EventRecorder};
use rk_proto::v1::{DeleteRequest, ObjectMeta, Pod, ReplicationController};
use rk_proto::Resource;
use tonic::{Code, Status};

pub struct PodControl {
    client: Client,
    recorder: EventRecorder,
}

impl PodControl {
    pub fn new(client: Client, recorder: EventRecorder) -> Self {
        PodControl { client, recorder }
    }

    /// Creates one pod from the controller's template.
    pub async fn create(&self, rc: &ReplicationController) -> Result<Pod, Status> {
        match self.client.create(pod_from_template(rc)).await {
            Ok(pod) => {
                let message = format!("Created pod: {}", pod.metadata().name);
                self.recorder.record(rc, EventType::Normal, "SuccessfulCreate", message);
                Ok(pod)
            }
            Err(status) => {
                let message = format!("Error creating: {}", status.message());
                self.recorder.record(rc, EventType::Warning, "FailedCreate", message);
                Err(status)
            }
        }
    }

    /// Deletes one of the controller's pods. A pod that is already gone is
    /// reported as NotFound, without an event.
    pub async fn delete(&self, rc: &ReplicationController, pod: &Pod) -> Result<(), Status> {
        let meta = pod.metadata();
        let request =
            DeleteRequest { namespace: meta.namespace.clone(), name: meta.name.clone(), ..Default::default() };
        match self.client.delete::<Pod>(request).await {
            Ok(_) => {
                self.recorder.record(rc, EventType::Normal, "SuccessfulDelete", format!("Deleted pod: {}", meta.name));
                Ok(())
            }
            Err(status) if status.code() == Code::NotFound => Err(status),
            Err(status) => {
                let message = format!("Error deleting: {}", status.message());
                self.recorder.record(rc, EventType::Warning, "FailedDelete", message);
                Err(status)
            }
        }
    }
}

/// A new pod as the template describes it, named `<controller>-<random>` and
/// controlled by `rc`.
pub fn pod_from_template(rc: &ReplicationController) -> Pod {
    let template = rc.spec.as_ref().and_then(|spec| spec.template.clone()).unwrap_or_default();
    let template_meta = template.metadata.unwrap_or_default();
    let meta = rc.metadata();
    Pod {
        metadata: Some(ObjectMeta {
            generate_name: format!("{}-", meta.name),
            namespace: meta.namespace.clone(),
            labels: template_meta.labels,
            annotations: template_meta.annotations,
            finalizers: template_meta.finalizers,
            owner_references: vec![controller_reference(rc)],
            ..Default::default()
        }),
        spec: template.spec,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::v1::{Container, PodSpec, PodTemplateSpec, ReplicationControllerSpec};

    #[test]
    fn pods_are_made_from_the_template_and_owned_by_the_controller() {
        let template = PodTemplateSpec {
            metadata: Some(ObjectMeta {
                name: "ignored".into(),
                labels: [("app".to_string(), "web".to_string())].into(),
                annotations: [("note".to_string(), "x".to_string())].into(),
                ..Default::default()
            }),
            spec: Some(PodSpec {
                containers: vec![Container { name: "c".into(), image: "web:1".into(), ..Default::default() }],
                ..Default::default()
            }),
        };
        let rc = ReplicationController {
            metadata: Some(ObjectMeta {
                name: "web".into(),
                namespace: "ns".into(),
                uid: "u1".into(),
                ..Default::default()
            }),
            spec: Some(ReplicationControllerSpec { template: Some(template.clone()), ..Default::default() }),
            ..Default::default()
        };
        let pod = pod_from_template(&rc);
        let meta = pod.metadata();
        assert_eq!((meta.name.as_str(), meta.generate_name.as_str(), meta.namespace.as_str()), ("", "web-", "ns"));
        assert_eq!(meta.labels, template.metadata.as_ref().unwrap().labels);
        assert_eq!(meta.annotations, template.metadata.as_ref().unwrap().annotations);
        assert_eq!(meta.owner_references, [controller_reference(&rc)]);
        assert_eq!(pod.spec, template.spec);
    }
}
