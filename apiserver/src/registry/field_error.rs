//! A validation problem, named by its field path as Kubernetes names it:
//! `spec.containers[0].ports[1].containerPort`.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), message: message.into() }
    }

    pub fn required(field: impl Into<String>) -> Self {
        FieldError::new(field, "Required value")
    }

    /// `spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"`
    pub fn not_supported(field: impl Into<String>, value: &str, allowed: &[&str]) -> Self {
        let allowed = allowed.iter().map(|a| format!("{a:?}")).collect::<Vec<_>>().join(", ");
        FieldError::new(field, format!("Unsupported value: {value:?}: supported values: {allowed}"))
    }

    /// `metadata.name: Invalid value: "Web_1": <why>`
    pub fn invalid(field: impl Into<String>, value: impl fmt::Display, why: impl fmt::Display) -> Self {
        FieldError::new(field, format!("Invalid value: \"{value}\": {why}"))
    }

    pub fn duplicate(field: impl Into<String>, value: impl fmt::Display) -> Self {
        FieldError::new(field, format!("Duplicate value: \"{value}\""))
    }

    pub fn immutable(field: impl Into<String>) -> Self {
        FieldError::new(field, "field is immutable")
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}
