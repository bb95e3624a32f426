//! Filter: a host port can be held by one pod per node (per protocol and address).

use super::{Filter, PodInfo, Reason, Reasons};
use crate::node_info::NodeInfo;
use crate::pod_usage::{HostPort, PodUsage};
use rk_proto::v1::Pod;

/// Whether none of the pod's host ports is held by one of `pods_on_node`.
pub fn host_ports_free<'a>(pod: &Pod, pods_on_node: impl IntoIterator<Item = &'a Pod>) -> bool {
    let wanted = PodUsage::new(pod);
    pods_on_node.into_iter().all(|other| ports_free(&wanted, &PodUsage::new(other).host_ports))
}

fn ports_free(pod: &PodUsage, held: &[HostPort]) -> bool {
    pod.host_ports.iter().all(|port| !held.iter().any(|h| h.conflicts_with(port)))
}

pub struct HostPorts;

impl Filter for HostPorts {
    fn filter(&self, pod: PodInfo, node: &NodeInfo) -> Reasons {
        if ports_free(pod.usage, &node.usage.host_ports) {
            Reasons::NONE
        } else {
            Reason::PortsInUse.into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{pod, with_host_port};

    #[test]
    fn a_held_port_is_not_free() {
        let web = with_host_port(pod("web", &[], &[]), 80);
        assert!(host_ports_free(&web, []));
        assert!(host_ports_free(&web, [&with_host_port(pod("other", &[], &[]), 8080)]));
        assert!(host_ports_free(&pod("portless", &[], &[]), [&web]));
        assert!(!host_ports_free(&web, [&with_host_port(pod("holder", &[], &[]), 80)]));
    }
}
