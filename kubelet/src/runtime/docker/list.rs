//! Listing this node's containers, with what only `docker inspect` tells
//! (exit code, start and finish times) cached per container and state: the
//! kubelet lists every second, and a container that has not changed state
//! needs no new inspect.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use bollard::models::{ContainerInspectResponse, ContainerSummary};
use bollard::query_parameters::ListContainersOptionsBuilder;
use bollard::Docker;
use futures::{StreamExt, TryStreamExt};

use super::errors::{docker_error, is_not_found};
use crate::runtime::{labels, ContainerInfo, ContainerState, RuntimeResult};

/// Inspects run at once when many containers changed.
const INSPECT_CONCURRENCY: usize = 8;
/// Docker's time for "never" (Go's zero time).
const ZERO_TIME_PREFIX: &str = "0001-01-01";

/// What inspect said of a container, valid while its state stays the same.
/// (The kubelet never restarts a container in place, so a state seen twice
/// has not changed in between.)
#[derive(Debug, Clone)]
struct Details {
    state: ContainerState,
    exit_code: i64,
    started_at: String,
    finished_at: String,
    reason: String,
    message: String,
    image: String,
    image_id: String,
}

#[derive(Default)]
pub(super) struct ListCache {
    details: Mutex<HashMap<String, Details>>,
}

impl ListCache {
    /// Every container labelled with this node, running or not.
    pub(super) async fn list(&self, docker: &Docker, node: &str) -> RuntimeResult<Vec<ContainerInfo>> {
        let filters = HashMap::from([("label", vec![format!("{}={node}", labels::NODE)])]);
        let options = ListContainersOptionsBuilder::new().all(true).filters(&filters).build();
        let summaries =
            docker.list_containers(Some(options)).await.map_err(|e| docker_error("listing containers", e))?;

        let stale: Vec<String> = {
            let cache = self.details.lock().expect("list cache poisoned");
            summaries
                .iter()
                .filter(|summary| {
                    let id = summary.id.as_deref().unwrap_or_default();
                    cache.get(id).is_none_or(|details| details.state != summary_state(summary))
                })
                .filter_map(|summary| summary.id.clone())
                .collect()
        };
        let inspected: Vec<(String, Option<Details>)> = futures::stream::iter(stale)
            .map(|id| async move {
                match docker.inspect_container(&id, None).await {
                    Ok(response) => Ok((id, Some(details(&response)))),
                    // Removed since it was listed.
                    Err(e) if is_not_found(&e) => Ok((id, None)),
                    Err(e) => Err(docker_error(&format!("inspecting container {id}"), e)),
                }
            })
            .buffer_unordered(INSPECT_CONCURRENCY)
            .try_collect()
            .await?;

        let mut cache = self.details.lock().expect("list cache poisoned");
        for (id, details) in inspected {
            match details {
                Some(details) => cache.insert(id, details),
                None => cache.remove(&id),
            };
        }
        let listed: std::collections::HashSet<&str> = summaries.iter().filter_map(|s| s.id.as_deref()).collect();
        cache.retain(|id, _| listed.contains(id.as_str()));
        Ok(summaries
            .iter()
            .filter_map(|summary| {
                let details = cache.get(summary.id.as_deref()?)?;
                decode(summary, details)
            })
            .collect())
    }
}

fn details(response: &ContainerInspectResponse) -> Details {
    let state = response.state.clone().unwrap_or_default();
    let status = state.status.map(|status| status.to_string()).unwrap_or_default();
    let exit_code = state.exit_code.unwrap_or_default();
    let state_kind = decode_state(&status);
    let reason = match state_kind {
        ContainerState::Exited if state.oom_killed == Some(true) => "OOMKilled",
        ContainerState::Exited if exit_code == 0 => "Completed",
        ContainerState::Exited => "Error",
        _ => "",
    };
    Details {
        state: state_kind,
        exit_code,
        started_at: time(state.started_at),
        finished_at: time(state.finished_at),
        reason: reason.to_string(),
        message: state.error.unwrap_or_default(),
        image: response.config.as_ref().and_then(|config| config.image.clone()).unwrap_or_default(),
        image_id: response.image.clone().unwrap_or_default(),
    }
}

/// A listed container with rk's labels decoded; `None` (with a warning) for
/// one whose labels are incomplete.
fn decode(summary: &ContainerSummary, details: &Details) -> Option<ContainerInfo> {
    let id = summary.id.clone()?;
    let labels: BTreeMap<String, String> = summary.labels.clone().unwrap_or_default().into_iter().collect();
    let label = |key: &str| {
        let value = labels.get(key).cloned();
        if value.is_none() {
            tracing::warn!(container = %id, label = key, "container of this node lacks a label; ignored");
        }
        value
    };
    let is_sandbox = labels.get(labels::SANDBOX).is_some_and(|value| value == "true");
    let container_name = if is_sandbox { None } else { Some(label(labels::CONTAINER_NAME)?) };
    let attempt = label(labels::ATTEMPT)?.parse().unwrap_or_else(|_| {
        tracing::warn!(container = %id, "attempt label is not a number; taken as 0");
        0
    });
    let ip = summary
        .network_settings
        .as_ref()
        .and_then(|settings| settings.networks.as_ref())
        .and_then(|networks| networks.values().find_map(|endpoint| endpoint.ip_address.clone()))
        .filter(|ip| is_sandbox && !ip.is_empty());
    Some(ContainerInfo {
        pod_uid: label(labels::POD_UID)?,
        namespace: label(labels::POD_NAMESPACE)?,
        pod_name: label(labels::POD_NAME)?,
        container_name,
        attempt,
        state: details.state,
        exit_code: details.exit_code,
        started_at: details.started_at.clone(),
        finished_at: details.finished_at.clone(),
        reason: details.reason.clone(),
        message: details.message.clone(),
        image: details.image.clone(),
        image_id: details.image_id.clone(),
        ip,
        labels,
        id,
    })
}

fn summary_state(summary: &ContainerSummary) -> ContainerState {
    decode_state(&summary.state.map(|state| state.to_string()).unwrap_or_default())
}

/// Docker's state word (the same in list and inspect) as the runtime's.
fn decode_state(status: &str) -> ContainerState {
    match status {
        "created" => ContainerState::Created,
        // A paused container still holds its processes; restarting is
        // transient (rk never asks Docker to restart).
        "running" | "paused" | "restarting" => ContainerState::Running,
        "exited" | "dead" => ContainerState::Exited,
        _ => ContainerState::Unknown,
    }
}

/// Docker's RFC 3339 time, or empty for its "never".
fn time(value: Option<String>) -> String {
    value.filter(|time| !time.starts_with(ZERO_TIME_PREFIX)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{ContainerState as DockerState, ContainerStateStatusEnum};

    fn inspected(status: ContainerStateStatusEnum, exit_code: i64, oom: bool) -> ContainerInspectResponse {
        ContainerInspectResponse {
            state: Some(DockerState {
                status: Some(status),
                exit_code: Some(exit_code),
                oom_killed: Some(oom),
                started_at: Some("2024-05-01T10:00:00.123456789Z".to_string()),
                finished_at: Some("0001-01-01T00:00:00Z".to_string()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn exited_containers_get_kubernetes_reasons() {
        assert_eq!(details(&inspected(ContainerStateStatusEnum::EXITED, 137, true)).reason, "OOMKilled");
        assert_eq!(details(&inspected(ContainerStateStatusEnum::EXITED, 0, false)).reason, "Completed");
        assert_eq!(details(&inspected(ContainerStateStatusEnum::EXITED, 3, false)).reason, "Error");
        assert_eq!(details(&inspected(ContainerStateStatusEnum::RUNNING, 0, false)).reason, "");
    }

    #[test]
    fn docker_zero_time_means_never() {
        let running = details(&inspected(ContainerStateStatusEnum::RUNNING, 0, false));
        assert_eq!(running.started_at, "2024-05-01T10:00:00.123456789Z");
        assert_eq!(running.finished_at, "");
        assert_eq!(running.state, ContainerState::Running);
    }
}
