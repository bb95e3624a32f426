//! Logs and exec: the PodStreaming service that the apiserver and the kubelet
//! both serve, and what both sides of an exec call agree on.

pub use crate::rk::streaming::v1::*;
use tonic::{Status, Streaming};

/// Reads the first request of an exec call, which must be `start` with a command.
pub async fn read_exec_start(requests: &mut Streaming<ExecRequest>) -> Result<ExecStart, Status> {
    let start = match requests.message().await? {
        Some(ExecRequest { request: Some(exec_request::Request::Start(start)) }) => start,
        Some(_) => return Err(Status::invalid_argument("the first exec request must be `start`")),
        None => return Err(Status::invalid_argument("the exec call ended before its `start` request")),
    };
    if start.command.is_empty() {
        return Err(Status::invalid_argument("exec needs a command to run (rkctl exec POD -- COMMAND [ARGS...])"));
    }
    Ok(start)
}
