//! Replication controllers: a replica count, a selector, and a pod template
//! whose pods the selector must match.

use super::common::{check_non_negative, Errors, NameFormat};
use super::meta::{validate_annotations, validate_labels, validate_meta};
use super::pod_spec::{default_pod_spec, validate_pod_spec, RESTART_POLICIES};
use crate::registry::field_error::FieldError;
use crate::registry::strategy::Strategy;
use rk_proto::v1::{PodTemplateSpec, ReplicationController, ReplicationControllerSpec};
use rk_proto::Resource;
use std::borrow::Cow;
use std::collections::BTreeMap;

impl Strategy for ReplicationController {
    fn apply_defaults(&mut self) {
        let spec = self.spec.get_or_insert_with(Default::default);
        spec.replicas.get_or_insert(1);
        let Some(template) = &mut spec.template else { return };
        default_pod_spec(template.spec.get_or_insert_with(Default::default));
        let template_labels = template.metadata.as_ref().map(|m| m.labels.clone()).unwrap_or_default();
        if spec.selector.is_empty() {
            spec.selector = template_labels.clone();
        }
        let labels = &mut self.metadata_mut().labels;
        if labels.is_empty() {
            *labels = template_labels;
        }
    }

    fn validate(&self) -> Vec<FieldError> {
        let mut errs = validate_meta(self, NameFormat::Dns1123Subdomain);
        validate_spec(&mut errs, self.spec.as_ref().unwrap_or(&ReplicationControllerSpec::default()));
        errs
    }

    spec_and_status!();
}

fn validate_spec(errs: &mut Errors, spec: &ReplicationControllerSpec) {
    if let Some(replicas) = spec.replicas {
        check_non_negative(errs, "spec.replicas", replicas.into());
    }
    check_non_negative(errs, "spec.minReadySeconds", spec.min_ready_seconds.into());
    if spec.selector.is_empty() {
        errs.push(FieldError::new("spec.selector", "Required value: a selector is needed to find the pods"));
    }
    validate_labels(errs, "spec.selector", &spec.selector);
    match &spec.template {
        None => errs.push(FieldError::required("spec.template")),
        Some(template) => validate_template(errs, &spec.selector, template),
    }
}

fn validate_template(errs: &mut Errors, selector: &BTreeMap<String, String>, template: &PodTemplateSpec) {
    let meta = template.metadata.as_ref().map_or_else(Default::default, Cow::Borrowed);
    validate_labels(errs, "spec.template.metadata.labels", &meta.labels);
    validate_annotations(errs, "spec.template.metadata.annotations", &meta.annotations);
    // Pods made from the template must be found by the selector, or the
    // controller would never see them and create pods without end.
    if !selector.iter().all(|(key, value)| meta.labels.get(key) == Some(value)) {
        let labels: Vec<_> = meta.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        errs.push(FieldError::invalid(
            "spec.template.metadata.labels",
            labels.join(","),
            "selector does not match template labels",
        ));
    }
    let pod_spec = template.spec.as_ref().map_or_else(Default::default, Cow::Borrowed);
    validate_pod_spec(errs, "spec.template.spec", &pod_spec);
    // A controller keeps pods running; a pod that may end for good would be replaced anyway.
    let restart_policy = pod_spec.restart_policy.as_str();
    if RESTART_POLICIES.contains(&restart_policy) && restart_policy != "Always" {
        errs.push(FieldError::not_supported("spec.template.spec.restartPolicy", restart_policy, &["Always"]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::validation::testing::{error_at, fields, web};
    use rk_proto::v1::PodSpec;
    use serde_json::json;

    fn rc(spec: serde_json::Value) -> ReplicationController {
        web("ReplicationController", "spec", spec)
    }

    fn template(labels: serde_json::Value) -> serde_json::Value {
        json!({"metadata": {"labels": labels}, "spec": {"containers": [{"name": "web", "image": "web:1"}]}})
    }

    #[test]
    fn defaults_come_from_the_template() {
        let rc = rc(json!({"template": template(json!({"app": "web"}))}));
        let spec = rc.spec.as_ref().unwrap();
        assert_eq!(spec.replicas, Some(1));
        assert_eq!(spec.selector, BTreeMap::from([("app".to_string(), "web".to_string())]));
        assert_eq!(rc.metadata().labels, spec.selector);
        let pod_spec: &PodSpec = spec.template.as_ref().unwrap().spec.as_ref().unwrap();
        assert_eq!(pod_spec.restart_policy, "Always");
        assert_eq!(pod_spec.containers[0].image_pull_policy, "IfNotPresent");
        assert_eq!(rc.validate(), []);
    }

    #[test]
    fn explicit_values_are_kept() {
        let rc = rc(
            json!({"replicas": 0, "selector": {"app": "web"}, "template": template(json!({"app": "web", "v": "2"}))}),
        );
        let spec = rc.spec.as_ref().unwrap();
        assert_eq!(spec.replicas, Some(0));
        assert_eq!(spec.selector.len(), 1);
        assert_eq!(rc.validate(), []);
    }

    #[test]
    fn selector_must_match_template_labels() {
        let rc = rc(json!({"selector": {"app": "web"}, "template": template(json!({"app": "db", "tier": "back"}))}));
        assert_eq!(
            error_at(&rc.validate(), "spec.template.metadata.labels").to_string(),
            "spec.template.metadata.labels: Invalid value: \"app=db,tier=back\": selector does not match template labels"
        );
    }

    #[test]
    fn every_problem_is_reported_with_template_paths() {
        let rc = rc(json!({"replicas": -1, "selector": {"app": "web"}, "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"restartPolicy": "OnFailure", "containers": [{"name": "web", "ports": [{"containerPort": 0}]}]}
        }}));
        let errs = rc.validate();
        assert_eq!(
            fields(&errs),
            [
                "spec.replicas",
                "spec.template.spec.containers[0].image",
                "spec.template.spec.containers[0].ports[0].containerPort",
                "spec.template.spec.restartPolicy"
            ]
        );
        assert_eq!(errs[3].message, "Unsupported value: \"OnFailure\": supported values: \"Always\"");
    }

    #[test]
    fn selector_and_template_are_required() {
        let errs = rc(json!({})).validate();
        assert_eq!(fields(&errs), ["spec.selector", "spec.template"]);
        let errs = rc(json!({"template": {"spec": {"containers": [{"name": "web", "image": "web"}]}}})).validate();
        assert_eq!(fields(&errs), ["spec.selector"]);
    }

    #[test]
    fn updates_keep_identity_and_status() {
        let mut old = rc(json!({"template": template(json!({"app": "web"}))}));
        old.status = Some(Default::default());
        old.status.as_mut().unwrap().replicas = 3;
        let mut new = old.clone();
        new.spec.as_mut().unwrap().replicas = Some(5);
        new.status = None;
        assert_eq!(new.validate_update(&old), []);
        assert!(new.spec_changed(&old));
        new.keep_status(&old);
        assert_eq!(new.status.as_ref().unwrap().replicas, 3);
        new.keep_spec(&old);
        assert!(!new.spec_changed(&old));
        new.metadata_mut().name = "other".into();
        assert_eq!(fields(&new.validate_update(&old)), ["metadata.name"]);
    }
}
