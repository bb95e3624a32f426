//! Turns a pod spec into runtime configurations: Kubernetes' command/args
//! semantics over the image's ENTRYPOINT/CMD, resource limits, host ports.

use crate::runtime::{PodNetwork, PortMapping, SandboxConfig};
use rk_proto::quantity::{self, Quantity};
use rk_proto::v1::{Container, Pod};

/// `command` replaces the image's ENTRYPOINT (and with it its CMD); `args`
/// replaces CMD. `None` keeps what the image says.
pub fn entrypoint_and_cmd(container: &Container) -> (Option<Vec<String>>, Option<Vec<String>>) {
    let entrypoint = (!container.command.is_empty()).then(|| container.command.clone());
    let cmd = (!container.args.is_empty()).then(|| container.args.clone());
    (entrypoint, cmd)
}

/// Memory limit in bytes, from `resources.limits.memory`.
pub fn memory_limit_bytes(container: &Container) -> Option<i64> {
    limit(container, "memory").map(|q| q.value() as i64)
}

/// CPU limit in nano-CPUs, from `resources.limits.cpu`.
pub fn nano_cpus(container: &Container) -> Option<i64> {
    limit(container, "cpu").map(|q| (q.milli * 1_000_000) as i64)
}

fn limit(container: &Container, resource: &str) -> Option<Quantity> {
    let text = container.resources.as_ref()?.limits.get(resource)?;
    // The apiserver validated the quantity; an unparsable one means no limit.
    quantity::parse(text).ok()
}

/// Host ports of every container, published on the sandbox that owns the network.
pub fn port_mappings(pod: &Pod) -> Vec<PortMapping> {
    containers(pod)
        .iter()
        .flat_map(|c| &c.ports)
        .filter(|p| p.host_port > 0)
        .map(|p| PortMapping {
            host_port: p.host_port as u16,
            container_port: p.container_port as u16,
            protocol: if p.protocol.is_empty() { "tcp".into() } else { p.protocol.to_lowercase() },
            host_ip: p.host_ip.clone(),
        })
        .collect()
}

pub fn containers(pod: &Pod) -> &[Container] {
    pod.spec.as_ref().map(|s| s.containers.as_slice()).unwrap_or_default()
}

pub fn restart_policy(pod: &Pod) -> &str {
    match pod.spec.as_ref().map(|s| s.restart_policy.as_str()) {
        Some("OnFailure") => "OnFailure",
        Some("Never") => "Never",
        _ => "Always",
    }
}

pub fn grace_period_seconds(pod: &Pod) -> i64 {
    let meta = pod.metadata.as_ref();
    meta.and_then(|m| m.deletion_grace_period_seconds)
        .or_else(|| pod.spec.as_ref().and_then(|s| s.termination_grace_period_seconds))
        .unwrap_or(30)
        .max(0)
}

pub fn sandbox_config(pod: &Pod, pod_network: &str, pause_image: &str, attempt: u32) -> SandboxConfig {
    let meta = pod.metadata.clone().unwrap_or_default();
    let spec = pod.spec.as_ref();
    let host_network = spec.is_some_and(|s| s.host_network);
    let hostname = spec.map(|s| s.hostname.clone()).filter(|h| !h.is_empty()).unwrap_or_else(|| meta.name.clone());
    SandboxConfig {
        pod_uid: meta.uid,
        namespace: meta.namespace,
        pod_name: meta.name,
        hostname,
        network: if host_network { PodNetwork::Host } else { PodNetwork::Bridge(pod_network.to_string()) },
        port_mappings: port_mappings(pod),
        image: pause_image.to_string(),
        attempt,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::v1::{ContainerPort, ResourceRequirements};

    #[test]
    fn command_replaces_entrypoint_and_args_replace_cmd() {
        let mut c = Container { command: vec!["sh".into()], ..Default::default() };
        assert_eq!(entrypoint_and_cmd(&c), (Some(vec!["sh".into()]), None));
        c.args = vec!["-c".into(), "true".into()];
        assert_eq!(entrypoint_and_cmd(&c).1, Some(vec!["-c".into(), "true".into()]));
        c.command.clear();
        assert_eq!(entrypoint_and_cmd(&c).0, None, "args alone keep the image's ENTRYPOINT");
    }

    #[test]
    fn limits_become_bytes_and_nano_cpus() {
        let mut resources = ResourceRequirements::default();
        resources.limits.insert("memory".into(), "64Mi".into());
        resources.limits.insert("cpu".into(), "250m".into());
        let c = Container { resources: Some(resources), ..Default::default() };
        assert_eq!(memory_limit_bytes(&c), Some(64 * 1024 * 1024));
        assert_eq!(nano_cpus(&c), Some(250_000_000));
        assert_eq!(memory_limit_bytes(&Container::default()), None);
    }

    #[test]
    fn only_ports_with_a_host_port_are_published() {
        let ports = vec![
            ContainerPort { container_port: 80, host_port: 8080, ..Default::default() },
            ContainerPort { container_port: 53, host_port: 5353, protocol: "UDP".into(), ..Default::default() },
            ContainerPort { container_port: 9000, ..Default::default() },
        ];
        let pod = Pod {
            spec: Some(rk_proto::v1::PodSpec {
                containers: vec![Container { ports, ..Default::default() }],
                ..Default::default()
            }),
            ..Default::default()
        };
        let mappings = port_mappings(&pod);
        assert_eq!(mappings.len(), 2);
        assert_eq!((mappings[0].host_port, mappings[0].protocol.as_str()), (8080, "tcp"));
        assert_eq!((mappings[1].container_port, mappings[1].protocol.as_str()), (53, "udp"));
    }
}
