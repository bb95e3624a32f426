//! One attempt of a probe: exec in the container, HTTP GET, or TCP connect,
//! bounded by the probe's timeout.

use super::http::get_status;
use super::spec::{Action, ProbeSpec};
use crate::runtime::ContainerRuntime;
use std::time::Duration;
use tokio::net::TcpStream;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// Why, as the event will say it.
    Failure(String),
}

/// Runs `spec` once against the container `container_id`.
pub async fn run_probe(runtime: &dyn ContainerRuntime, container_id: &str, spec: &ProbeSpec) -> Outcome {
    let action = match &spec.action {
        Ok(action) => action,
        Err(error) => return Outcome::Failure(error.to_string()),
    };
    match tokio::time::timeout(spec.timeout, attempt(runtime, container_id, action, spec.timeout)).await {
        Ok(outcome) => outcome,
        Err(_) => Outcome::Failure(format!("probe timed out after {}", seconds(spec.timeout))),
    }
}

async fn attempt(runtime: &dyn ContainerRuntime, container_id: &str, action: &Action, timeout: Duration) -> Outcome {
    match action {
        Action::Exec { command } => match runtime.exec_sync(container_id, command, timeout).await {
            Ok(out) if out.exit_code == 0 => Outcome::Success,
            Ok(out) => {
                let output = String::from_utf8_lossy(&out.output).trim().to_string();
                Outcome::Failure(if output.is_empty() {
                    format!("command {command:?} exited with code {}", out.exit_code)
                } else {
                    output
                })
            }
            Err(error) => Outcome::Failure(format!("exec of {command:?} failed: {error}")),
        },
        Action::Http { host, port, path, headers } => match get_status(host, *port, path, headers).await {
            Ok(status) if (200..400).contains(&status) => Outcome::Success,
            Ok(status) => Outcome::Failure(format!("HTTP probe failed with statuscode: {status}")),
            Err(error) => Outcome::Failure(error),
        },
        Action::Tcp { host, port } => match TcpStream::connect((host.as_str(), *port)).await {
            Ok(_) => Outcome::Success,
            Err(error) => Outcome::Failure(format!("dial tcp {host}:{port}: {error}")),
        },
    }
}

fn seconds(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}
