//! Docker's errors as the runtime's.

use bollard::errors::Error;

use crate::runtime::RuntimeError;

/// Docker's own words for an error, without bollard's wrapping.
pub(super) fn docker_message(error: &Error) -> String {
    match error {
        Error::DockerResponseServerError { message, .. } => message.clone(),
        Error::DockerStreamError { error } => error.clone(),
        other => other.to_string(),
    }
}

/// The HTTP status Docker answered with, if it answered with an error.
pub(super) fn status_code(error: &Error) -> Option<u16> {
    match error {
        Error::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

pub(super) fn is_not_found(error: &Error) -> bool {
    status_code(error) == Some(404)
}

/// A failed call on container `id`: `NotFound` when Docker does not know it.
pub(super) fn container_error(id: &str, doing: &str, error: Error) -> RuntimeError {
    if is_not_found(&error) {
        RuntimeError::NotFound(id.to_string())
    } else {
        docker_error(&format!("{doing} container {id}"), error)
    }
}

pub(super) fn docker_error(doing: &str, error: Error) -> RuntimeError {
    RuntimeError::Other(format!("{doing}: {}", docker_message(&error)))
}
