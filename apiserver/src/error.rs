//! The apiserver's errors and their gRPC status codes. Messages follow
//! Kubernetes' wording so rkctl can print them as kubectl would.

use crate::registry::field_error::FieldError;
use crate::storage::StorageError;
use tonic::{Code, Status};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{plural} \"{name}\" not found")]
    NotFound { plural: &'static str, name: String },
    #[error("{plural} \"{name}\" already exists")]
    AlreadyExists { plural: &'static str, name: String },
    #[error("Operation cannot be fulfilled on {plural} \"{name}\": the object has been modified; please apply your changes to the latest version and try again")]
    Conflict { plural: &'static str, name: String },
    #[error("{kind} \"{name}\" is invalid: {}", join(.errors))]
    Invalid { kind: &'static str, name: String, errors: Vec<FieldError> },
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("too old resource version: {requested} (oldest available: {oldest}); list again and watch from the list's resourceVersion")]
    Gone { requested: i64, oldest: i64 },
    #[error("{0}")]
    Expired(String),
    #[error("{kind} \"{name}\" is {size} bytes; objects may be at most {limit} bytes")]
    TooLarge { kind: &'static str, name: String, size: usize, limit: usize },
    #[error("{0}")]
    Unavailable(String),
}

fn join(errors: &[FieldError]) -> String {
    match errors {
        [one] => one.to_string(),
        many => format!("[{}]", many.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")),
    }
}

impl ApiError {
    /// Maps a storage failure on the object `name` of kind `plural`.
    pub fn from_storage(error: StorageError, plural: &'static str, name: &str) -> Self {
        let name = name.to_string();
        match error {
            StorageError::NotFound { .. } => ApiError::NotFound { plural, name },
            StorageError::AlreadyExists { .. } => ApiError::AlreadyExists { plural, name },
            StorageError::Conflict { .. } => ApiError::Conflict { plural, name },
            StorageError::Compacted { requested, compacted } => ApiError::Gone { requested, oldest: compacted },
            StorageError::Unavailable(message) => ApiError::Unavailable(message),
        }
    }

    pub fn code(&self) -> Code {
        match self {
            ApiError::NotFound { .. } => Code::NotFound,
            ApiError::AlreadyExists { .. } => Code::AlreadyExists,
            ApiError::Conflict { .. } => Code::Aborted,
            ApiError::Invalid { .. } | ApiError::BadRequest(_) => Code::InvalidArgument,
            ApiError::FailedPrecondition(_) => Code::FailedPrecondition,
            ApiError::Gone { .. } | ApiError::Expired(_) => Code::OutOfRange,
            ApiError::TooLarge { .. } => Code::ResourceExhausted,
            ApiError::Unavailable(_) => Code::Unavailable,
        }
    }
}

impl From<ApiError> for Status {
    fn from(error: ApiError) -> Status {
        Status::new(error.code(), error.to_string())
    }
}
