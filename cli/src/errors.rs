//! gRPC errors shown as kubectl shows API errors:
//! `Error from server (NotFound): pods "x" not found`.

use tonic::{Code, Status};

/// Kubernetes' reason for a gRPC code.
pub fn reason(code: Code) -> &'static str {
    match code {
        Code::NotFound => "NotFound",
        Code::AlreadyExists => "AlreadyExists",
        Code::Aborted | Code::FailedPrecondition => "Conflict",
        Code::InvalidArgument => "Invalid",
        Code::OutOfRange => "Expired",
        Code::ResourceExhausted => "RequestEntityTooLarge",
        Code::Unavailable => "ServiceUnavailable",
        Code::Unimplemented => "MethodNotAllowed",
        Code::DeadlineExceeded => "Timeout",
        _ => "InternalError",
    }
}

/// An error from the apiserver, ready to print.
#[derive(Debug, thiserror::Error)]
#[error("Error from server ({reason}): {message}", reason = reason(self.0.code()), message = self.0.message())]
pub struct ServerError(pub Status);

impl From<Status> for ServerError {
    fn from(status: Status) -> Self {
        ServerError(status)
    }
}
