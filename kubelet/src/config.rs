//! Settings of one kubelet, filled from flags by main.rs (or by the hollow
//! node runner, many at once).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct KubeletConfig {
    pub node_name: String,
    pub node_labels: BTreeMap<String, String>,
    /// The node's InternalIP; also where the apiserver reaches the streaming endpoint.
    pub node_ip: String,
    /// Port of the streaming (exec/logs) endpoint, published in the Node's daemonEndpoints.
    pub streaming_port: u16,
    pub max_pods: u32,
    /// How often the Node's Ready condition is refreshed.
    pub heartbeat_period: Duration,
    /// Name of the runtime's bridge network for this node's pod CIDR.
    pub pod_network: String,
    /// Route other nodes' pod CIDRs through their addresses (host-gw, see routes.rs).
    pub pod_routes: bool,
    /// With pod routes: pod traffic leaving this range is masqueraded.
    pub cluster_cidr: Option<String>,
    pub pause_image: String,
    /// Where emptyDir volumes live: `<root_dir>/pods/<uid>/volumes/<name>`.
    pub root_dir: PathBuf,
    /// Crash-loop back-off: first delay, doubling up to the maximum.
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
    /// How often the runtime is listed to notice containers that died.
    pub relist_period: Duration,
    /// Full resync of every pod, as a safety net behind the watch.
    pub resync_period: Duration,
}

impl KubeletConfig {
    /// Defaults for a node called `node_name`, as a real node would run.
    pub fn new(node_name: &str) -> KubeletConfig {
        KubeletConfig {
            node_name: node_name.to_string(),
            node_labels: BTreeMap::new(),
            node_ip: "127.0.0.1".to_string(),
            streaming_port: 10250,
            max_pods: 110,
            heartbeat_period: Duration::from_secs(10),
            pod_network: "rk-pods".to_string(),
            pod_routes: false,
            cluster_cidr: None,
            pause_image: crate::images::PAUSE_IMAGE.to_string(),
            root_dir: PathBuf::from("/var/lib/rk-kubelet"),
            backoff_initial: Duration::from_secs(10),
            backoff_max: Duration::from_secs(300),
            relist_period: Duration::from_secs(1),
            resync_period: Duration::from_secs(60),
        }
    }
}
