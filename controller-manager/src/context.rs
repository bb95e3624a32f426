//! What every controller gets: the API client, event recorders and the settings.

use rk_client::{Client, EventRecorder};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Settings {
    /// How often informers re-announce every object (level-triggered repair).
    pub resync: Duration,
    /// A node whose heartbeat is older than this becomes Ready=Unknown.
    pub node_monitor_grace_period: Duration,
    /// How long a node may stay not ready before its pods are deleted.
    pub pod_eviction_timeout: Duration,
    /// Pod CIDRs for nodes are carved from this range.
    pub cluster_cidr: String,
    /// Prefix length of each node's pod CIDR.
    pub node_cidr_mask_size: u8,
    /// LoadBalancer Services' ingress addresses are taken from this range (a CIDR or `first-last`).
    pub load_balancer_ip_range: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            resync: Duration::from_secs(30),
            node_monitor_grace_period: Duration::from_secs(40),
            pod_eviction_timeout: Duration::from_secs(300),
            cluster_cidr: "10.244.0.0/16".into(),
            node_cidr_mask_size: 24,
            load_balancer_ip_range: crate::load_balancer::DEFAULT_IP_RANGE.into(),
        }
    }
}

#[derive(Clone)]
pub struct ControllerContext {
    pub client: Client,
    pub settings: Settings,
}

impl ControllerContext {
    pub fn new(client: Client, settings: Settings) -> Self {
        ControllerContext { client, settings }
    }

    /// A recorder whose events come from `component`, named as in Kubernetes'
    /// controller manager (`replication-controller`, `node-controller`, ...),
    /// which is what `describe` shows in its From column.
    pub fn recorder(&self, component: &str) -> EventRecorder {
        EventRecorder::new(self.client.clone(), component, "")
    }
}
