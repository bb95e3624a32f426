//! Namespaces: cluster-scoped, named by a DNS label since the name becomes
//! part of service DNS names (`web.team-a.svc`).

use super::common::{check_enum, Errors, NameFormat};
use super::meta::validate_meta;
use crate::registry::field_error::FieldError;
use crate::registry::strategy::Strategy;
use rk_proto::labels::validate_label_key;
use rk_proto::v1::Namespace;

const PHASES: &[&str] = &["Active", "Terminating"];

impl Strategy for Namespace {
    fn apply_defaults(&mut self) {
        let status = self.status.get_or_insert_with(Default::default);
        if status.phase.is_empty() {
            status.phase = "Active".into();
        }
    }

    fn validate(&self) -> Vec<FieldError> {
        let mut errs = validate_meta(self, NameFormat::Dns1123Label);
        validate_finalizers(&mut errs, self);
        if let Some(status) = &self.status {
            check_enum(&mut errs, "status.phase", &status.phase, PHASES);
        }
        errs
    }

    spec_and_status!();
}

/// Finalizers are qualified names, like label keys (`kubernetes`, `example.com/cleanup`).
fn validate_finalizers(errs: &mut Errors, namespace: &Namespace) {
    let finalizers = namespace.spec.as_ref().map(|spec| spec.finalizers.as_slice()).unwrap_or_default();
    for (i, finalizer) in finalizers.iter().enumerate() {
        if let Err(why) = validate_label_key(finalizer) {
            errs.push(FieldError::invalid(format!("spec.finalizers[{i}]"), finalizer, why));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::validation::testing::{defaulted, fields};
    use serde_json::json;

    #[test]
    fn a_valid_namespace_is_active() {
        let ns = defaulted::<Namespace>(json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "team-a", "labels": {"team": "a"}}, "spec": {"finalizers": ["kubernetes"]}}));
        assert_eq!(ns.status.as_ref().unwrap().phase, "Active");
        assert_eq!(ns.validate(), []);
    }

    #[test]
    fn every_problem_is_reported() {
        let ns = defaulted::<Namespace>(json!({"metadata": {"name": "team.a", "namespace": "default"},
            "spec": {"finalizers": ["bad finalizer"]}, "status": {"phase": "Gone"}}));
        let errs = ns.validate();
        assert_eq!(fields(&errs), ["metadata.name", "metadata.namespace", "spec.finalizers[0]", "status.phase"]);
        assert!(errs[0].message.contains("RFC 1123 label"));
        assert!(errs[3].message.contains("\"Active\", \"Terminating\""));
    }

    #[test]
    fn updates_keep_the_name_and_the_status() {
        let old = defaulted::<Namespace>(json!({"metadata": {"name": "team-a", "uid": "u1"}}));
        let mut new = old.clone();
        new.status.as_mut().unwrap().phase = "Terminating".into();
        new.keep_status(&old);
        assert_eq!(new, old);
        assert!(!new.spec_changed(&old));
        new.metadata.as_mut().unwrap().name = "team-b".into();
        assert_eq!(fields(&new.validate_update(&old)), ["metadata.name"]);
    }
}
