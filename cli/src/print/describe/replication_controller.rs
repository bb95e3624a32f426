//! `describe replicationcontroller`, with its pod template.

use super::containers::{write_containers, write_volumes, Indent};
use super::events::write_events;
use super::writer::Writer;
use super::{Describe, DescribeContext};
use crate::print::format::format_labels;
use rk_proto::v1::{Pod, PodTemplateSpec, ReplicationController};
use rk_proto::Resource;

impl Describe for ReplicationController {
    fn describe(&self, ctx: &DescribeContext<'_>) -> String {
        let meta = self.metadata();
        let spec = self.spec.clone().unwrap_or_default();
        let status = self.status.unwrap_or_default();
        let mut w = Writer::for_object(self);
        w.line(0, format_args!("Selector:\t{}", format_labels(&spec.selector)));
        w.labels_and_annotations(meta);
        let desired = spec.replicas.unwrap_or(1);
        w.line(0, format_args!("Replicas:\t{} current / {desired} desired", status.replicas));
        let counts = PhaseCounts::of_controlled(ctx.pods, &meta.uid);
        w.line(
            0,
            format_args!(
                "Pods Status:\t{} Running / {} Waiting / {} Succeeded / {} Failed",
                counts.running, counts.waiting, counts.succeeded, counts.failed
            ),
        );
        write_pod_template(&mut w, spec.template.as_ref());
        write_events(&mut w, ctx.events, ctx.now);
        w.finish()
    }
}

/// Pods by phase; Pending counts as Waiting.
#[derive(Debug, Default, PartialEq, Eq)]
struct PhaseCounts {
    running: usize,
    waiting: usize,
    succeeded: usize,
    failed: usize,
}

impl PhaseCounts {
    /// Counts only pods whose controller is the object with `uid`; the caller lists by
    /// selector, which may also match orphans and other controllers' pods.
    fn of_controlled(pods: &[Pod], uid: &str) -> Self {
        let mut counts = PhaseCounts::default();
        for pod in pods {
            let owners = &pod.metadata().owner_references;
            if !owners.iter().any(|o| o.controller == Some(true) && o.uid == uid) {
                continue;
            }
            match pod.status.as_ref().map(|s| s.phase.as_str()) {
                Some("Running") => counts.running += 1,
                Some("Pending") => counts.waiting += 1,
                Some("Succeeded") => counts.succeeded += 1,
                Some("Failed") => counts.failed += 1,
                _ => {}
            }
        }
        counts
    }
}

fn write_pod_template(w: &mut Writer, template: Option<&PodTemplateSpec>) {
    w.line(0, format_args!("Pod Template:"));
    let Some(template) = template else {
        return w.line(1, format_args!("<unset>"));
    };
    let meta = template.metadata.clone().unwrap_or_default();
    let spec = template.spec.clone().unwrap_or_default();
    w.labels("  Labels", &meta.labels);
    if !meta.annotations.is_empty() {
        w.annotations("  Annotations", &meta.annotations);
    }
    write_containers(w, Indent::Template, &spec.containers, None);
    write_volumes(w, Indent::Template, &spec.volumes);
    // As kubectl's DescribePodTemplate: where the pods may run (rk has no tolerations).
    w.labels("  Node-Selectors", &spec.node_selector);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::v1::{
        Container, ContainerPort, ObjectMeta, OwnerReference, PodSpec, PodStatus, ReplicationControllerSpec,
        ReplicationControllerStatus,
    };

    fn pod(phase: &str, owner_uid: &str) -> Pod {
        Pod {
            metadata: Some(ObjectMeta {
                owner_references: vec![OwnerReference {
                    uid: owner_uid.into(),
                    controller: Some(true),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            status: Some(PodStatus { phase: phase.into(), ..Default::default() }),
            ..Default::default()
        }
    }

    #[test]
    fn counts_only_controlled_pods() {
        let pods = [pod("Running", "rc-1"), pod("Running", "rc-1"), pod("Pending", "rc-1"), pod("Failed", "other")];
        assert_eq!(
            PhaseCounts::of_controlled(&pods, "rc-1"),
            PhaseCounts { running: 2, waiting: 1, succeeded: 0, failed: 0 }
        );
    }

    #[test]
    fn with_template() {
        let labels: std::collections::BTreeMap<String, String> = [("app".to_string(), "web".to_string())].into();
        let rc = ReplicationController {
            metadata: Some(ObjectMeta {
                name: "web".into(),
                namespace: "default".into(),
                uid: "rc-1".into(),
                ..Default::default()
            }),
            spec: Some(ReplicationControllerSpec {
                replicas: Some(3),
                selector: labels.clone(),
                template: Some(PodTemplateSpec {
                    metadata: Some(ObjectMeta { labels, ..Default::default() }),
                    spec: Some(PodSpec {
                        containers: vec![Container {
                            name: "nginx".into(),
                            image: "nginx".into(),
                            ports: vec![ContainerPort {
                                container_port: 80,
                                protocol: "TCP".into(),
                                ..Default::default()
                            }],
                            ..Default::default()
                        }],
                        node_selector: [("disktype".to_string(), "ssd".to_string())].into(),
                        ..Default::default()
                    }),
                }),
                ..Default::default()
            }),
            status: Some(ReplicationControllerStatus { replicas: 2, ..Default::default() }),
            ..Default::default()
        };
        let pods = [pod("Running", "rc-1")];
        let ctx = DescribeContext { pods: &pods, ..crate::print::describe::bare_context(chrono::Utc::now()) };
        assert_eq!(
            rc.describe(&ctx),
            "Name:         web\n\
             Namespace:    default\n\
             Selector:     app=web\n\
             Labels:       <none>\n\
             Annotations:  <none>\n\
             Replicas:     2 current / 3 desired\n\
             Pods Status:  1 Running / 0 Waiting / 0 Succeeded / 0 Failed\n\
             Pod Template:\n\
             \x20 Labels:  app=web\n\
             \x20 Containers:\n\
             \x20  nginx:\n\
             \x20   Image:         nginx\n\
             \x20   Port:          80/TCP\n\
             \x20   Host Port:     0/TCP\n\
             \x20   Environment:   <none>\n\
             \x20   Mounts:        <none>\n\
             \x20 Volumes:         <none>\n\
             \x20 Node-Selectors:  disktype=ssd\n"
        );
    }
}
