//! Pod columns: NAME READY STATUS RESTARTS AGE, wide adds IP NODE NOMINATED NODE READINESS GATES.

use super::{with_wide, Columns};
use crate::print::age::age;
use crate::print::format::{or_none, NONE};
use chrono::{DateTime, Utc};
use rk_proto::v1::{ContainerStatus, Pod, PodStatus};
use rk_proto::Resource;

/// The reason the node controller gives pods on a node that stopped reporting.
const NODE_LOST: &str = "NodeLost";

/// READY, STATUS and RESTARTS as kubectl's `printPod` derives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodSummary {
    /// Containers that are ready and running.
    pub ready: usize,
    pub total: usize,
    /// The phase, overridden by `status.reason`, then by the most telling container state.
    pub status: String,
    pub restarts: i64,
}

impl PodSummary {
    pub fn of(pod: &Pod) -> Self {
        let default_status = PodStatus::default();
        let status = pod.status.as_ref().unwrap_or(&default_status);
        let total = pod.spec.as_ref().map_or(0, |s| s.containers.len());
        let mut reason = if status.reason.is_empty() { status.phase.clone() } else { status.reason.clone() };
        let (mut ready, mut restarts, mut has_running) = (0, 0, false);
        // Backwards, so the first container's state is the one that sticks, as in kubectl.
        for container in status.container_statuses.iter().rev() {
            restarts += i64::from(container.restart_count);
            match container_reason(container) {
                Some(r) => reason = r,
                None => {
                    let running = container.state.as_ref().is_some_and(|s| s.running.is_some());
                    if container.ready && running {
                        has_running = true;
                        ready += 1;
                    }
                }
            }
        }
        // A container that completed while another still runs does not make the pod Completed.
        if reason == "Completed" && has_running {
            let pod_ready = status.conditions.iter().any(|c| c.r#type == "Ready" && c.status == "True");
            reason = if pod_ready { "Running" } else { "NotReady" }.to_string();
        }
        if !pod.metadata().deletion_timestamp.is_empty() {
            reason = if status.reason == NODE_LOST { "Unknown" } else { "Terminating" }.to_string();
        }
        PodSummary { ready, total, status: reason, restarts }
    }
}

/// The reason a container that is waiting or terminated gives, if any.
fn container_reason(container: &ContainerStatus) -> Option<String> {
    let state = container.state.as_ref()?;
    if let Some(waiting) = state.waiting.as_ref().filter(|w| !w.reason.is_empty()) {
        return Some(waiting.reason.clone());
    }
    let terminated = state.terminated.as_ref()?;
    Some(if !terminated.reason.is_empty() {
        terminated.reason.clone()
    } else if terminated.signal != 0 {
        format!("Signal:{}", terminated.signal)
    } else {
        format!("ExitCode:{}", terminated.exit_code)
    })
}

impl Columns for Pod {
    fn headers(wide: bool) -> Vec<&'static str> {
        with_wide(vec!["NAME", "READY", "STATUS", "RESTARTS", "AGE"], wide, || {
            vec!["IP", "NODE", "NOMINATED NODE", "READINESS GATES"]
        })
    }

    fn row(&self, wide: bool, now: DateTime<Utc>) -> Vec<String> {
        let meta = self.metadata();
        let summary = PodSummary::of(self);
        let normal = vec![
            meta.name.clone(),
            format!("{}/{}", summary.ready, summary.total),
            summary.status,
            summary.restarts.to_string(),
            age(&meta.creation_timestamp, now),
        ];
        with_wide(normal, wide, || {
            let ip = self.status.as_ref().map_or("", |s| s.pod_ip.as_str());
            let node = self.spec.as_ref().map_or("", |s| s.node_name.as_str());
            // rk has neither preemption nor readiness gates.
            vec![or_none(ip), or_none(node), NONE.to_string(), NONE.to_string()]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::v1::{
        ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting, ObjectMeta,
        PodCondition, PodSpec,
    };

    fn running() -> ContainerState {
        ContainerState { running: Some(ContainerStateRunning::default()), ..Default::default() }
    }

    fn waiting(reason: &str) -> ContainerState {
        ContainerState {
            waiting: Some(ContainerStateWaiting { reason: reason.into(), ..Default::default() }),
            ..Default::default()
        }
    }

    fn terminated(reason: &str, exit_code: i32, signal: i32) -> ContainerState {
        let t = ContainerStateTerminated { reason: reason.into(), exit_code, signal, ..Default::default() };
        ContainerState { terminated: Some(t), ..Default::default() }
    }

    fn container(state: ContainerState, ready: bool, restart_count: i32) -> ContainerStatus {
        ContainerStatus { state: Some(state), ready, restart_count, ..Default::default() }
    }

    fn pod(phase: &str, statuses: Vec<ContainerStatus>) -> Pod {
        Pod {
            metadata: Some(ObjectMeta { name: "web-1".into(), ..Default::default() }),
            spec: Some(PodSpec { containers: vec![Default::default(); statuses.len().max(1)], ..Default::default() }),
            status: Some(PodStatus { phase: phase.into(), container_statuses: statuses, ..Default::default() }),
            ..Default::default()
        }
    }

    fn status_of(pod: &Pod) -> String {
        PodSummary::of(pod).status
    }

    #[test]
    fn running_and_ready() {
        let p = pod("Running", vec![container(running(), true, 2), container(running(), false, 3)]);
        assert_eq!(PodSummary::of(&p), PodSummary { ready: 1, total: 2, status: "Running".into(), restarts: 5 });
    }

    #[test]
    fn phase_alone() {
        assert_eq!(status_of(&pod("Pending", vec![])), "Pending");
        assert_eq!(PodSummary::of(&Pod::default()).status, "");
    }

    #[test]
    fn status_reason_overrides_phase() {
        let mut p = pod("Failed", vec![]);
        p.status.as_mut().unwrap().reason = "Evicted".into();
        assert_eq!(status_of(&p), "Evicted");
    }

    #[test]
    fn waiting_reasons() {
        for reason in ["ContainerCreating", "CrashLoopBackOff", "ErrImagePull", "ImagePullBackOff"] {
            assert_eq!(status_of(&pod("Pending", vec![container(waiting(reason), false, 0)])), reason);
        }
        // A waiting container without a reason leaves the phase.
        assert_eq!(status_of(&pod("Pending", vec![container(waiting(""), false, 0)])), "Pending");
    }

    #[test]
    fn first_container_wins() {
        let p = pod(
            "Running",
            vec![container(waiting("ErrImagePull"), false, 0), container(waiting("CrashLoopBackOff"), false, 0)],
        );
        assert_eq!(status_of(&p), "ErrImagePull");
    }

    #[test]
    fn terminated_reasons() {
        assert_eq!(status_of(&pod("Succeeded", vec![container(terminated("Completed", 0, 0), false, 0)])), "Completed");
        assert_eq!(status_of(&pod("Failed", vec![container(terminated("Error", 1, 0), false, 0)])), "Error");
        assert_eq!(status_of(&pod("Failed", vec![container(terminated("", 0, 9), false, 0)])), "Signal:9");
        assert_eq!(status_of(&pod("Failed", vec![container(terminated("", 137, 0), false, 0)])), "ExitCode:137");
    }

    #[test]
    fn completed_with_a_running_sibling() {
        let statuses = vec![container(terminated("Completed", 0, 0), false, 0), container(running(), true, 0)];
        let mut p = pod("Running", statuses);
        assert_eq!(status_of(&p), "NotReady");
        let ready = PodCondition { r#type: "Ready".into(), status: "True".into(), ..Default::default() };
        p.status.as_mut().unwrap().conditions.push(ready);
        assert_eq!(status_of(&p), "Running");
    }

    #[test]
    fn deletion() {
        let mut p = pod("Running", vec![container(running(), true, 0)]);
        p.metadata.as_mut().unwrap().deletion_timestamp = "2024-01-01T00:00:00Z".into();
        assert_eq!(status_of(&p), "Terminating");
        p.status.as_mut().unwrap().reason = NODE_LOST.into();
        assert_eq!(status_of(&p), "Unknown");
    }

    #[test]
    fn wide_row() {
        let mut p = pod("Running", vec![container(running(), true, 0)]);
        p.metadata.as_mut().unwrap().creation_timestamp = "2024-01-01T00:00:00Z".into();
        let now = rk_proto::time::parse("2024-01-01T00:00:05Z").unwrap();
        assert_eq!(p.row(true, now), ["web-1", "1/1", "Running", "0", "5s", "<none>", "<none>", "<none>", "<none>"]);
        let status = p.status.as_mut().unwrap();
        status.pod_ip = "10.1.0.5".into();
        p.spec.as_mut().unwrap().node_name = "node-1".into();
        assert_eq!(p.row(true, now)[5..7], ["10.1.0.5", "node-1"]);
        assert_eq!(Pod::headers(true).len(), p.row(true, now).len());
        assert_eq!(Pod::headers(false).len(), p.row(false, now).len());
    }
}
