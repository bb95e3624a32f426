//! Pod status as Kubernetes computes it from what the runtime reports: a
//! state per container, the pod phase, and the Ready conditions. The result
//! is a pure function of its inputs, so an unchanged pod yields an equal
//! status and no write.

use super::containers::PodContainers;
use super::spec;
use crate::runtime::{ContainerInfo, ContainerState as RuntimeState};
use rk_proto::v1::{
    ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting, ContainerStatus, Pod,
    PodCondition, PodStatus,
};
use std::collections::HashMap;

/// Why a container is not running, as the sync loop last saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub reason: String,
    pub message: String,
}

pub struct StatusInputs<'a> {
    pub pod: &'a Pod,
    pub containers: &'a PodContainers,
    /// Per spec container name: a waiting reason (ContainerCreating, ErrImagePull, CrashLoopBackOff...).
    pub waiting: &'a HashMap<String, Waiting>,
    /// Whether the readiness probe of this running container id passes.
    pub ready: &'a dyn Fn(&str) -> bool,
    pub host_ip: &'a str,
    pub now: &'a str,
}

pub fn compute(inputs: &StatusInputs) -> PodStatus {
    let old = inputs.pod.status.clone().unwrap_or_default();
    let statuses: Vec<ContainerStatus> =
        spec::containers(inputs.pod).iter().map(|c| container_status(inputs, &c.name, &c.image)).collect();
    let phase = if matches!(old.phase.as_str(), "Succeeded" | "Failed") {
        old.phase.clone()
    } else {
        phase(spec::restart_policy(inputs.pod), &statuses)
    };
    let host_network = inputs.pod.spec.as_ref().is_some_and(|s| s.host_network);
    let pod_ip = match inputs.containers.running_sandbox() {
        Some(_) if host_network => inputs.host_ip.to_string(),
        Some(sandbox) => sandbox.ip.clone().unwrap_or_default(),
        None => old.pod_ip.clone(),
    };
    let all_ready = !statuses.is_empty() && statuses.iter().all(|s| s.ready);
    let not_ready: Vec<&str> = statuses.iter().filter(|s| !s.ready).map(|s| s.name.as_str()).collect();
    let ready_condition = |kind: &str| {
        let (reason, message) = match (all_ready, phase.as_str()) {
            (true, _) => (String::new(), String::new()),
            (false, "Succeeded" | "Failed") => ("PodCompleted".to_string(), String::new()),
            (false, _) => {
                ("ContainersNotReady".to_string(), format!("containers with unready status: [{}]", not_ready.join(" ")))
            }
        };
        condition(&old, kind, all_ready, &reason, &message, inputs.now)
    };
    let scheduled = old.conditions.iter().find(|c| c.r#type == "PodScheduled").cloned();
    let mut conditions = vec![condition(&old, "Initialized", true, "", "", inputs.now)];
    conditions.push(ready_condition("Ready"));
    conditions.push(ready_condition("ContainersReady"));
    conditions.push(scheduled.unwrap_or_else(|| condition(&old, "PodScheduled", true, "", "", inputs.now)));
    PodStatus {
        phase,
        conditions,
        message: old.message.clone(),
        reason: old.reason.clone(),
        host_ip: inputs.host_ip.to_string(),
        pod_ip,
        start_time: if old.start_time.is_empty() { inputs.now.to_string() } else { old.start_time.clone() },
        container_statuses: statuses,
    }
}

fn container_status(inputs: &StatusInputs, name: &str, image: &str) -> ContainerStatus {
    let latest = inputs.containers.latest(name);
    let waiting = inputs.waiting.get(name);
    let terminated_previous = inputs.containers.previous(name).and_then(terminated);
    let (state, last_state) = match latest {
        Some(c) if c.state == RuntimeState::Running => (Some(running(c)), terminated_previous),
        Some(c) if c.state == RuntimeState::Exited => match waiting {
            Some(w) => (Some(waiting_state(w)), terminated(c)),
            None => (terminated(c), terminated_previous),
        },
        _ => {
            let w = waiting.cloned().unwrap_or(Waiting { reason: "ContainerCreating".into(), message: String::new() });
            (Some(waiting_state(&w)), terminated_previous)
        }
    };
    let is_running = latest.is_some_and(|c| c.state == RuntimeState::Running);
    ContainerStatus {
        name: name.to_string(),
        state,
        last_state: Some(last_state.unwrap_or_default()),
        ready: is_running && latest.is_some_and(|c| (inputs.ready)(&c.id)),
        restart_count: latest.map(|c| c.attempt as i32).unwrap_or(0),
        image: image.to_string(),
        image_id: latest.map(|c| c.image_id.clone()).unwrap_or_default(),
        container_id: latest.map(|c| format!("docker://{}", c.id)).unwrap_or_default(),
        started: Some(is_running),
    }
}

fn running(c: &ContainerInfo) -> ContainerState {
    ContainerState { running: Some(ContainerStateRunning { started_at: c.started_at.clone() }), ..Default::default() }
}

fn waiting_state(w: &Waiting) -> ContainerState {
    ContainerState {
        waiting: Some(ContainerStateWaiting { reason: w.reason.clone(), message: w.message.clone() }),
        ..Default::default()
    }
}

fn terminated(c: &ContainerInfo) -> Option<ContainerState> {
    (c.state == RuntimeState::Exited).then(|| ContainerState {
        terminated: Some(ContainerStateTerminated {
            exit_code: c.exit_code as i32,
            signal: 0,
            reason: c.reason.clone(),
            message: c.message.clone(),
            started_at: c.started_at.clone(),
            finished_at: c.finished_at.clone(),
            container_id: format!("docker://{}", c.id),
        }),
        ..Default::default()
    })
}

/// Kubernetes' getPhase: a container waiting for its first run keeps the pod
/// Pending; a container waiting to be restarted counts as stopped.
fn phase(restart_policy: &str, statuses: &[ContainerStatus]) -> String {
    let (mut waiting, mut running, mut stopped, mut succeeded) = (0, 0, 0, 0);
    for status in statuses {
        let state = status.state.clone().unwrap_or_default();
        let has_last_termination = status.last_state.as_ref().is_some_and(|s| s.terminated.is_some());
        if state.running.is_some() {
            running += 1;
        } else if let Some(t) = &state.terminated {
            stopped += 1;
            succeeded += usize::from(t.exit_code == 0);
        } else if has_last_termination {
            stopped += 1;
        } else {
            waiting += 1;
        }
    }
    let phase = if waiting > 0 || statuses.is_empty() {
        "Pending"
    } else if running > 0 || restart_policy == "Always" {
        "Running"
    } else if stopped == succeeded {
        "Succeeded"
    } else if restart_policy == "Never" {
        "Failed"
    } else {
        "Running"
    };
    phase.to_string()
}

/// A condition, keeping its old transition time when its status did not change.
fn condition(old: &PodStatus, kind: &str, status: bool, reason: &str, message: &str, now: &str) -> PodCondition {
    let status = if status { "True" } else { "False" };
    let previous = old.conditions.iter().find(|c| c.r#type == kind);
    let last_transition_time = match previous {
        Some(p) if p.status == status => p.last_transition_time.clone(),
        _ => now.to_string(),
    };
    PodCondition {
        r#type: kind.to_string(),
        status: status.to_string(),
        last_probe_time: String::new(),
        last_transition_time,
        reason: reason.to_string(),
        message: message.to_string(),
    }
}

#[cfg(test)]
mod tests;
