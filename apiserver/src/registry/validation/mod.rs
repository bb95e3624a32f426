//! Strategy implementations, one file per kind, plus shared metadata checks.

mod common;
mod container;
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

#[cfg(test)]
mod testing {
    use crate::registry::field_error::FieldError;
    use serde::de::DeserializeOwned;

    /// An object from its Kubernetes JSON form, as a manifest would give it.
    pub(crate) fn from_json<T: DeserializeOwned>(value: serde_json::Value) -> T {
        serde_json::from_value(value).expect("test object must decode")
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
