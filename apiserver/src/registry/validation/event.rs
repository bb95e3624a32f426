//! Events: what happened to which object. They have neither spec nor status.

use super::common::{check_enum, check_non_negative, Errors, NameFormat};
use super::meta::validate_meta;
use crate::registry::field_error::FieldError;
use crate::registry::strategy::Strategy;
use rk_proto::v1::{Event, ObjectReference};
use rk_proto::Resource;

const TYPES: &[&str] = &["Normal", "Warning"];

impl Strategy for Event {
    fn apply_defaults(&mut self) {
        if self.count == 0 {
            self.count = 1;
        }
        if self.r#type.is_empty() {
            self.r#type = "Normal".into();
        }
    }

    fn validate(&self) -> Vec<FieldError> {
        let mut errs = validate_meta(self, NameFormat::Dns1123Subdomain);
        match &self.involved_object {
            None => errs.push(FieldError::required("involvedObject")),
            Some(object) => validate_involved_object(&mut errs, object, &self.metadata().namespace),
        }
        check_enum(&mut errs, "type", &self.r#type, TYPES);
        check_non_negative(&mut errs, "count", self.count.into());
        errs
    }

    // Events have no spec, so an update never bumps their generation, and no
    // status, so there is nothing to keep in an update.
    spec_and_status!(no spec, no status);
}

/// An event about a namespaced object lives in that object's namespace; one
/// about a node (cluster-scoped) names no namespace in its reference.
fn validate_involved_object(errs: &mut Errors, object: &ObjectReference, event_namespace: &str) {
    if object.kind.is_empty() {
        errs.push(FieldError::required("involvedObject.kind"));
    }
    if object.name.is_empty() {
        errs.push(FieldError::required("involvedObject.name"));
    }
    if !object.namespace.is_empty() && object.namespace != event_namespace {
        errs.push(FieldError::invalid(
            "involvedObject.namespace",
            &object.namespace,
            format!("does not match the event's namespace {event_namespace:?}"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::validation::testing::{defaulted, fields};
    use serde_json::json;

    #[test]
    fn a_valid_event_gets_count_and_type() {
        let ev = defaulted::<Event>(json!({"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "web-0.17a8c2", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "web-0", "namespace": "default"},
            "reason": "Scheduled", "message": "assigned default/web-0 to node-1",
            "source": {"component": "scheduler"}}));
        assert_eq!((ev.count, ev.r#type.as_str()), (1, "Normal"));
        assert_eq!(ev.validate(), []);
        let about_node = defaulted::<Event>(json!({"metadata": {"name": "node-1.1", "namespace": "default"},
            "involvedObject": {"kind": "Node", "name": "node-1"}, "type": "Warning", "count": 4}));
        assert_eq!(about_node.validate(), []);
    }

    #[test]
    fn every_problem_is_reported() {
        let ev = defaulted::<Event>(json!({"metadata": {"name": "e", "namespace": "default"},
            "involvedObject": {"namespace": "other"}, "type": "Error", "count": -2}));
        let errs = ev.validate();
        assert_eq!(
            fields(&errs),
            ["involvedObject.kind", "involvedObject.name", "involvedObject.namespace", "type", "count"]
        );
        assert!(errs[3].message.contains("\"Normal\", \"Warning\""));
        let errs = defaulted::<Event>(json!({"metadata": {"name": "e", "namespace": "default"}})).validate();
        assert_eq!(fields(&errs), ["involvedObject"]);
    }

    #[test]
    fn updates_keep_identity() {
        let old = defaulted::<Event>(json!({"metadata": {"name": "e", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "web-0", "namespace": "default"}}));
        let mut new = old.clone();
        new.count = 2;
        assert_eq!(new.validate_update(&old), []);
        assert!(!new.spec_changed(&old));
        new.metadata_mut().namespace = "other".into();
        assert_eq!(fields(&new.validate_update(&old)), ["involvedObject.namespace", "metadata.namespace"]);
    }
}
