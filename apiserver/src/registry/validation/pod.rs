//! Pods: defaults, validation, and the Kubernetes rule that a pod's spec is
//! fixed once created except for container images.

use super::common::{Errors, NameFormat};
use super::meta::validate_meta;
use super::pod_spec::{default_pod_spec, validate_pod_spec};
use crate::registry::field_error::FieldError;
use crate::registry::strategy::Strategy;
use rk_proto::v1::{Pod, PodSpec};
use serde_json::Value;
use std::collections::BTreeSet;

impl Strategy for Pod {
    fn apply_defaults(&mut self) {
        let spec = self.spec.get_or_insert_with(Default::default);
        default_pod_spec(spec);
        default_requests_to_limits(spec);
        let status = self.status.get_or_insert_with(Default::default);
        if status.phase.is_empty() {
            status.phase = "Pending".into();
        }
    }

    fn validate(&self) -> Vec<FieldError> {
        let mut errs = validate_meta(self, NameFormat::Dns1123Subdomain);
        validate_pod_spec(&mut errs, "spec", self.spec.as_ref().unwrap_or(&PodSpec::default()));
        errs
    }

    fn validate_kind_update(&self, old: &Self, errs: &mut Errors) {
        let new_spec = self.spec.clone().unwrap_or_default();
        validate_spec_update(errs, new_spec, old.spec.as_ref().unwrap_or(&PodSpec::default()));
    }

    spec_and_status!();
}

/// Kubernetes copies each container's limits into the requests it leaves out,
/// so the scheduler reserves what the container may use. This is done for pods
/// only, not for pod templates, so a template stored in a replication
/// controller reads back as written.
fn default_requests_to_limits(spec: &mut PodSpec) {
    for resources in spec.containers.iter_mut().filter_map(|c| c.resources.as_mut()) {
        for (name, limit) in &resources.limits {
            resources.requests.entry(name.clone()).or_insert_with(|| limit.clone());
        }
    }
}

/// A running pod may only get new container images. spec.nodeName is covered
/// too: it is set once through Bind, never through an update.
fn validate_spec_update(errs: &mut Errors, mut new: PodSpec, old: &PodSpec) {
    for (container, old_container) in new.containers.iter_mut().zip(&old.containers) {
        container.image.clone_from(&old_container.image);
    }
    if new == *old {
        return;
    }
    let mut changed = Vec::new();
    let to_json = |spec: &PodSpec| serde_json::to_value(spec).expect("a pod spec always serializes");
    changed_paths("spec", &to_json(old), &to_json(&new), &mut changed);
    errs.push(FieldError::new(
        "spec",
        format!(
            "Forbidden: pod updates may not change fields other than spec.containers[*].image (changed: {})",
            changed.join(", ")
        ),
    ));
}

/// The paths (`spec.restartPolicy`, `spec.containers[0].ports`) at which two
/// different JSON values differ, so the user learns what an update touched.
fn changed_paths(path: &str, old: &Value, new: &Value, out: &mut Vec<String>) {
    match (old, new) {
        (Value::Object(old), Value::Object(new)) => {
            for key in old.keys().chain(new.keys()).collect::<BTreeSet<_>>() {
                let (o, n) = (old.get(key).unwrap_or(&Value::Null), new.get(key).unwrap_or(&Value::Null));
                if o != n {
                    changed_paths(&format!("{path}.{key}"), o, n, out);
                }
            }
        }
        (Value::Array(old), Value::Array(new)) if old.len() == new.len() => {
            for (i, (o, n)) in old.iter().zip(new).enumerate() {
                if o != n {
                    changed_paths(&format!("{path}[{i}]"), o, n, out);
                }
            }
        }
        _ => out.push(path.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::validation::testing::{defaulted, error_at, fields};
    use rk_proto::Resource;
    use serde_json::json;

    fn pod(spec: serde_json::Value) -> Pod {
        defaulted(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web", "namespace": "default", "uid": "u1", "labels": {"app": "web"}},
            "spec": spec
        }))
    }

    fn nginx() -> Pod {
        pod(json!({"containers": [{
            "name": "nginx", "image": "nginx:1.25",
            "ports": [{"name": "http", "containerPort": 80}],
            "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "250m"}},
            "livenessProbe": {"httpGet": {"port": "http"}}
        }]}))
    }

    #[test]
    fn a_valid_pod_is_defaulted_and_passes() {
        let pod = nginx();
        assert_eq!(pod.validate(), []);
        let spec = pod.spec.as_ref().unwrap();
        assert_eq!((spec.restart_policy.as_str(), spec.dns_policy.as_str()), ("Always", "ClusterFirst"));
        let container = &spec.containers[0];
        assert_eq!(container.image_pull_policy, "IfNotPresent");
        assert_eq!(container.ports[0].protocol, "TCP");
        let requests = &container.resources.as_ref().unwrap().requests;
        assert_eq!((requests["cpu"].as_str(), requests["memory"].as_str()), ("250m", "128Mi"));
        assert_eq!(container.liveness_probe.as_ref().unwrap().http_get.as_ref().unwrap().path, "/");
        assert_eq!(pod.status.unwrap().phase, "Pending");
    }

    #[test]
    fn all_problems_are_reported_with_their_paths() {
        let mut bad = pod(json!({"restartPolicy": "Sometimes", "containers": [
            {"name": "web", "image": "web:1", "ports": [{"containerPort": 80}, {"containerPort": 0}]},
            {"name": "web"}
        ]}));
        bad.metadata_mut().name = "Web_1".into();
        let errs = bad.validate();
        assert_eq!(
            fields(&errs),
            [
                "metadata.name",
                "spec.containers[0].ports[1].containerPort",
                "spec.containers[1].image",
                "spec.containers[1].name",
                "spec.restartPolicy"
            ]
        );
        assert!(errs[3].message.starts_with("Duplicate value"));
    }

    #[test]
    fn a_pod_without_spec_needs_containers() {
        let pod = Pod {
            metadata: Some(rk_proto::v1::ObjectMeta {
                name: "p".into(),
                namespace: "default".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(fields(&pod.validate()), ["spec.containers", "spec.restartPolicy", "spec.dnsPolicy"]);
    }

    #[test]
    fn an_update_may_change_images_and_metadata_labels() {
        let old = nginx();
        let mut new = old.clone();
        new.spec.as_mut().unwrap().containers[0].image = "nginx:1.26".into();
        new.metadata_mut().labels.insert("tier".into(), "front".into());
        assert_eq!(new.validate_update(&old), []);
        assert!(new.spec_changed(&old));
    }

    #[test]
    fn an_update_may_not_change_the_rest_of_the_spec() {
        let old = nginx();
        let mut new = old.clone();
        let spec = new.spec.as_mut().unwrap();
        spec.restart_policy = "Never".into();
        spec.containers[0].ports[0].container_port = 8080;
        spec.node_name = "node-1".into();
        let errs = new.validate_update(&old);
        assert_eq!(
            error_at(&errs, "spec").message,
            "Forbidden: pod updates may not change fields other than spec.containers[*].image (changed: \
             spec.containers[0].ports[0].containerPort, spec.nodeName, spec.restartPolicy)"
        );
        let mut more = old.clone();
        more.spec.as_mut().unwrap().containers.push(old.spec.as_ref().unwrap().containers[0].clone());
        more.metadata_mut().namespace = "other".into();
        let errs = more.validate_update(&old);
        assert!(error_at(&errs, "spec").message.ends_with("(changed: spec.containers)"));
        assert!(error_at(&errs, "metadata.namespace").message.contains("immutable"));
    }

    #[test]
    fn status_and_spec_are_kept_across_the_two_kinds_of_update() {
        let mut old = nginx();
        old.status.as_mut().unwrap().phase = "Running".into();
        let mut update = nginx();
        update.keep_status(&old);
        assert_eq!(update.status.as_ref().unwrap().phase, "Running");
        let mut status_update = old.clone();
        status_update.spec.as_mut().unwrap().node_name = "elsewhere".into();
        status_update.keep_spec(&old);
        assert!(!status_update.spec_changed(&old));
    }
}
