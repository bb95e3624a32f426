//! Strategy implementations, one file per kind, plus shared metadata checks.

/// The `Strategy` methods that say which fields of a kind are its spec and its
/// status (`spec_changed`, `keep_status`, `keep_spec`), inside an `impl Strategy`.
/// Defined before the kind modules so that they can use it.
///
/// - `spec_and_status!()`: the object has `spec` and `status` fields.
/// - `spec_and_status!(spec: field, no status)`: `field` plays the spec and
///   there is no status, so there is nothing to keep in either kind of update.
/// - `spec_and_status!(no spec, no status)`: an update never changes a spec.
macro_rules! spec_and_status {
    () => {
        fn spec_changed(&self, old: &Self) -> bool {
            self.spec != old.spec
        }

        fn keep_status(&mut self, old: &Self) {
            self.status.clone_from(&old.status);
        }

        fn keep_spec(&mut self, old: &Self) {
            self.spec.clone_from(&old.spec);
        }
    };
    (spec: $spec:ident, no status) => {
        fn spec_changed(&self, old: &Self) -> bool {
            self.$spec != old.$spec
        }

        fn keep_status(&mut self, _old: &Self) {}

        fn keep_spec(&mut self, _old: &Self) {}
    };
    (no spec, no status) => {
        fn spec_changed(&self, _old: &Self) -> bool {
            false
        }

        fn keep_status(&mut self, _old: &Self) {}

        fn keep_spec(&mut self, _old: &Self) {}
    };
}

mod common;
mod container;
mod dataset;
mod endpoints;
mod event;
mod meta;
mod namespace;
mod node;
mod pod;
mod pod_spec;
mod probe;
mod replication_controller;
mod service;

pub(crate) use meta::validate_meta_update;

#[cfg(test)]
mod testing {
    use crate::registry::field_error::FieldError;
    use crate::registry::strategy::Strategy;
    use serde::de::DeserializeOwned;

    /// An object from its Kubernetes JSON form, as a manifest would give it.
    pub(crate) fn from_json<T: DeserializeOwned>(value: serde_json::Value) -> T {
        serde_json::from_value(value).expect("test object must decode")
    }

    /// An object from its Kubernetes JSON form with the kind's defaults filled, as the registry validates it.
    pub(crate) fn defaulted<T: Strategy + DeserializeOwned>(value: serde_json::Value) -> T {
        let mut object: T = from_json(value);
        object.apply_defaults();
        object
    }

    /// A defaulted object of `kind` named `web` in namespace `default`, with
    /// `field` (`spec`, or `subsets` for Endpoints) set to `value`.
    pub(crate) fn web<T: Strategy + DeserializeOwned>(kind: &str, field: &str, value: serde_json::Value) -> T {
        let mut object = serde_json::json!({
            "apiVersion": "v1", "kind": kind,
            "metadata": {"name": "web", "namespace": "default"}
        });
        object[field] = value;
        defaulted(object)
    }

    pub(crate) fn fields(errs: &[FieldError]) -> Vec<&str> {
        errs.iter().map(|e| e.field.as_str()).collect()
    }

    /// The one error at `field`; panics listing all errors when there is not exactly one.
    pub(crate) fn error_at<'a>(errs: &'a [FieldError], field: &str) -> &'a FieldError {
        let found: Vec<_> = errs.iter().filter(|e| e.field == field).collect();
        assert_eq!(found.len(), 1, "expected one error at {field}, got {errs:#?}");
        found[0]
    }
}
