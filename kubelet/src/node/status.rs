//! The status the kubelet reports for its Node: what the host offers, who it
//! is, and whether it can run pods (the Ready condition).

use super::{addresses, capacity::Resources, capacity::RESERVED, system_info, NodeError};
use crate::config::KubeletConfig;
use crate::runtime::{RuntimeResult, RuntimeVersion};
use rk_proto::v1::{DaemonEndpoint, NodeAddress, NodeCondition, NodeDaemonEndpoints, NodeStatus, NodeSystemInfo};

pub const READY: &str = "Ready";

/// Whether the node can run pods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// With the runtime's version (`docker://20.10.24`).
    Ready(String),
    /// The runtime does not answer; with its error.
    RuntimeDown(String),
}

impl Health {
    /// Judged by whether the runtime answers a version request.
    pub fn of(version: RuntimeResult<RuntimeVersion>) -> Health {
        match version {
            Ok(v) => Health::Ready(v.version),
            Err(e) => Health::RuntimeDown(e.to_string()),
        }
    }

    /// The Ready condition saying so, without times.
    fn condition(&self) -> NodeCondition {
        let (status, reason, message) = match self {
            Health::Ready(_) => ("True", "KubeletReady", "kubelet is posting ready status".to_string()),
            Health::RuntimeDown(error) => {
                ("False", "ContainerRuntimeDown", format!("container runtime is down: {error}"))
            }
        };
        NodeCondition {
            r#type: READY.into(),
            status: status.into(),
            reason: reason.into(),
            message,
            ..Default::default()
        }
    }
}

/// Writes the Ready condition for `health` as of `now`, and the runtime
/// version when known. The transition time moves only when the condition's
/// status changes (including from the controller's Unknown).
pub fn report_health(status: &mut NodeStatus, health: &Health, now: &str) {
    let mut ready = health.condition();
    ready.last_heartbeat_time = now.to_string();
    match status.conditions.iter_mut().find(|c| c.r#type == READY) {
        Some(previous) => {
            ready.last_transition_time = if previous.status == ready.status {
                std::mem::take(&mut previous.last_transition_time)
            } else {
                now.to_string()
            };
            *previous = ready;
        }
        None => {
            ready.last_transition_time = now.to_string();
            status.conditions.push(ready);
        }
    }
    if let Health::Ready(version) = health {
        status.node_info.get_or_insert_with(Default::default).container_runtime_version.clone_from(version);
    }
}

/// What the host offers, who it is and where it is reached, read afresh at
/// each registration.
#[derive(Debug, Clone)]
pub struct HostFacts {
    pub capacity: Resources,
    pub addresses: Vec<NodeAddress>,
    pub system_info: NodeSystemInfo,
    /// The streaming (logs/exec) endpoint's port, where the apiserver calls the kubelet.
    pub kubelet_port: u16,
}

impl HostFacts {
    pub fn read(config: &KubeletConfig) -> Result<HostFacts, NodeError> {
        Ok(HostFacts {
            capacity: Resources::of_host(config.max_pods)?,
            addresses: addresses::node_addresses(&config.node_ip, &addresses::hostname()?)?,
            system_info: system_info::of_host(""),
            kubelet_port: config.streaming_port,
        })
    }
}

/// `previous` (or an empty status) with the host's facts and health written
/// over it; conditions other components wrote are kept.
pub fn node_status(host: &HostFacts, health: &Health, previous: Option<NodeStatus>, now: &str) -> NodeStatus {
    let mut status = previous.unwrap_or_default();
    status.capacity = host.capacity.to_quantities();
    status.allocatable = host.capacity.minus(&RESERVED).to_quantities();
    status.addresses.clone_from(&host.addresses);
    status.node_info = Some(host.system_info.clone());
    let kubelet_endpoint = DaemonEndpoint { port: i32::from(host.kubelet_port) };
    status.daemon_endpoints = Some(NodeDaemonEndpoints { kubelet_endpoint: Some(kubelet_endpoint) });
    report_health(&mut status, health, now);
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::RuntimeError;

    const T0: &str = "2024-01-01T00:00:00Z";
    const T1: &str = "2024-01-01T00:00:10Z";
    const T2: &str = "2024-01-01T00:00:20Z";

    fn ready() -> Health {
        Health::of(Ok(RuntimeVersion { version: "fake://1.0".into() }))
    }

    fn down() -> Health {
        Health::of(Err(RuntimeError::Other("connection refused".into())))
    }

    fn ready_condition(status: &NodeStatus) -> &NodeCondition {
        status.conditions.iter().find(|c| c.r#type == READY).unwrap()
    }

    #[test]
    fn heartbeats_keep_the_transition_time_until_the_status_changes() {
        let mut status = NodeStatus::default();
        report_health(&mut status, &ready(), T0);
        let condition = ready_condition(&status);
        assert_eq!((condition.status.as_str(), condition.reason.as_str()), ("True", "KubeletReady"));
        assert_eq!(condition.message, "kubelet is posting ready status");
        assert_eq!((condition.last_heartbeat_time.as_str(), condition.last_transition_time.as_str()), (T0, T0));
        assert_eq!(status.node_info.as_ref().unwrap().container_runtime_version, "fake://1.0");

        report_health(&mut status, &ready(), T1);
        let condition = ready_condition(&status);
        assert_eq!((condition.last_heartbeat_time.as_str(), condition.last_transition_time.as_str()), (T1, T0));

        report_health(&mut status, &down(), T2);
        let condition = ready_condition(&status);
        assert_eq!((condition.status.as_str(), condition.reason.as_str()), ("False", "ContainerRuntimeDown"));
        assert_eq!(condition.message, "container runtime is down: connection refused");
        assert_eq!((condition.last_heartbeat_time.as_str(), condition.last_transition_time.as_str()), (T2, T2));
        assert_eq!(status.conditions.len(), 1);
        assert_eq!(status.node_info.as_ref().unwrap().container_runtime_version, "fake://1.0", "the last known");
    }

    #[test]
    fn coming_back_from_unknown_is_a_transition() {
        let unknown = NodeCondition {
            r#type: READY.into(),
            status: "Unknown".into(),
            last_transition_time: T0.into(),
            ..Default::default()
        };
        let network =
            NodeCondition { r#type: "NetworkUnavailable".into(), status: "False".into(), ..Default::default() };
        let mut status = NodeStatus { conditions: vec![network.clone(), unknown], ..Default::default() };
        report_health(&mut status, &ready(), T1);
        assert_eq!(ready_condition(&status).last_transition_time, T1);
        assert_eq!(status.conditions[0], network, "others' conditions are kept");
    }

    #[test]
    fn the_status_carries_the_host_facts() {
        let host = HostFacts {
            capacity: Resources { cpu_millis: 2000, memory_bytes: 4 << 30, pods: 10 },
            addresses: addresses::node_addresses("10.0.0.5", "w1").unwrap(),
            system_info: NodeSystemInfo { kernel_version: "6.1.0".into(), ..Default::default() },
            kubelet_port: 10250,
        };
        let previous = NodeStatus { phase: "Running".into(), ..Default::default() };
        let status = node_status(&host, &ready(), Some(previous), T0);
        assert_eq!(status.capacity["memory"], "4Gi");
        assert_eq!(status.allocatable, status.capacity);
        assert_eq!(status.addresses, host.addresses);
        let info = status.node_info.as_ref().unwrap();
        assert_eq!((info.kernel_version.as_str(), info.container_runtime_version.as_str()), ("6.1.0", "fake://1.0"));
        assert_eq!(status.phase, "Running");
        let endpoints = status.daemon_endpoints.as_ref().unwrap();
        assert_eq!(endpoints.kubelet_endpoint.as_ref().unwrap().port, 10250);
        assert_eq!(ready_condition(&status).status, "True");
    }
}
