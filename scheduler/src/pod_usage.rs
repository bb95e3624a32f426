//! What a pod takes from the node it runs on, worked out once per pod so that
//! the scheduling cycle and the cache only add and compare numbers.

use crate::resources::{non_zero_requests, pod_requests, Resources};
use crate::spread_key::SpreadKey;
use rk_proto::v1::Pod;

/// A port a pod holds on its node's addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    /// TCP (the default), UDP or SCTP.
    pub protocol: String,
    /// Empty or `0.0.0.0` means every address of the node.
    pub ip: String,
    pub port: i32,
}

impl HostPort {
    /// Two pods cannot both hold the same port and protocol on one address,
    /// and a wildcard address overlaps every address.
    pub fn conflicts_with(&self, other: &HostPort) -> bool {
        let wildcard = |ip: &str| ip.is_empty() || ip == "0.0.0.0";
        self.port == other.port
            && self.protocol == other.protocol
            && (self.ip == other.ip || wildcard(&self.ip) || wildcard(&other.ip))
    }
}

/// A pod's claim on its node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodUsage {
    /// Requests (limits standing in for missing ones): what fitting checks.
    pub requests: Resources,
    /// Requests with defaults for what is not requested: what scoring counts.
    pub non_zero_requests: Resources,
    pub host_ports: Vec<HostPort>,
    /// Groups whose pods should spread across nodes: the uid of the pod's
    /// controller and of every Service selecting it.
    pub spread_keys: Vec<SpreadKey>,
}

impl PodUsage {
    /// The pod's usage, with its controller (if any) as its only spread key;
    /// the cache adds the Services that select it.
    pub fn new(pod: &Pod) -> PodUsage {
        let host_ports = pod
            .spec
            .iter()
            .flat_map(|spec| &spec.containers)
            .flat_map(|container| &container.ports)
            .filter(|port| port.host_port > 0)
            .map(|port| HostPort {
                protocol: if port.protocol.is_empty() { "TCP".into() } else { port.protocol.clone() },
                ip: port.host_ip.clone(),
                port: port.host_port,
            })
            .collect();
        let controller =
            pod.metadata.iter().flat_map(|meta| &meta.owner_references).find(|r| r.controller == Some(true));
        PodUsage {
            requests: pod_requests(pod),
            non_zero_requests: non_zero_requests(pod),
            host_ports,
            spread_keys: controller.map(|owner| SpreadKey::of(&owner.uid)).into_iter().collect(),
        }
    }
}

/// Whether the pod has finished (Succeeded or Failed) and so holds nothing on its node.
pub fn is_terminated(pod: &Pod) -> bool {
    pod.status.as_ref().is_some_and(|status| matches!(status.phase.as_str(), "Succeeded" | "Failed"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{owned_by, pod, with_host_port};

    fn port(protocol: &str, ip: &str, port: i32) -> HostPort {
        HostPort { protocol: protocol.into(), ip: ip.into(), port }
    }

    #[test]
    fn ports_conflict_on_the_same_protocol_and_overlapping_addresses() {
        assert!(port("TCP", "", 80).conflicts_with(&port("TCP", "10.0.0.1", 80)));
        assert!(port("TCP", "10.0.0.1", 80).conflicts_with(&port("TCP", "0.0.0.0", 80)));
        assert!(port("TCP", "10.0.0.1", 80).conflicts_with(&port("TCP", "10.0.0.1", 80)));
        assert!(!port("TCP", "10.0.0.1", 80).conflicts_with(&port("TCP", "10.0.0.2", 80)));
        assert!(!port("TCP", "", 80).conflicts_with(&port("UDP", "", 80)));
        assert!(!port("TCP", "", 80).conflicts_with(&port("TCP", "", 81)));
    }

    #[test]
    fn usage_reads_host_ports_and_the_controller() {
        let usage = PodUsage::new(&owned_by(with_host_port(pod("web", &[("cpu", "1")], &[]), 8080), "rc-uid"));
        assert_eq!(usage.requests.milli_cpu, 1000);
        assert_eq!(usage.host_ports, vec![port("TCP", "", 8080)]);
        assert_eq!(usage.spread_keys, [SpreadKey::of("rc-uid")]);
        assert!(PodUsage::new(&pod("plain", &[], &[])).spread_keys.is_empty());
    }
}
