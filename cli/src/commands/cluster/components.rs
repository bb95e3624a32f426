//! The processes of a local cluster, in start order, with their flags.

use anyhow::Context;
use std::path::{Path, PathBuf};

/// The control plane in start order; the nodes' components follow.
const CONTROL_PLANE: &[&str] = &["etcd", "rk-apiserver", "rk-scheduler", "rk-controller-manager"];

/// Every component's name in start order; `down` stops them in reverse.
pub fn names(args: &UpArgs, state_dir: &Path) -> Vec<String> {
    let control_plane = CONTROL_PLANE.iter().map(|name| name.to_string());
    control_plane.chain(super::node::component_names(&args.node, state_dir)).collect()
}

const DEFAULT_LOAD_BALANCER_IP_RANGE: &str = "198.18.255.0/24";

/// For a cluster.json saved before the flag existed.
fn default_load_balancer_ip_range() -> String {
    DEFAULT_LOAD_BALANCER_IP_RANGE.into()
}

/// Saved in the state dir by `up`, so `status` checks the same ports.
#[derive(clap::Args, Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct UpArgs {
    /// etcd client port.
    #[arg(long, default_value_t = 2379)]
    pub etcd_port: u16,
    /// etcd peer port.
    #[arg(long, default_value_t = 2380)]
    pub etcd_peer_port: u16,
    /// apiserver gRPC port.
    #[arg(long, default_value_t = 6443)]
    pub apiserver_port: u16,
    /// apiserver health and metrics port.
    #[arg(long, default_value_t = 6480)]
    pub apiserver_health_port: u16,
    /// rk-scheduler health and metrics port.
    #[arg(long, default_value_t = 10259)]
    pub scheduler_health_port: u16,
    /// rk-controller-manager health and metrics port.
    #[arg(long, default_value_t = 10257)]
    pub controller_manager_health_port: u16,
    /// Seconds without a node heartbeat before it becomes Ready=Unknown (controller manager).
    #[arg(long, default_value_t = 40)]
    pub node_monitor_grace_period: u64,
    /// Seconds a node may stay not ready before its pods are deleted (controller manager).
    #[arg(long, default_value_t = 300)]
    pub pod_eviction_timeout: u64,
    /// Service cluster IP range.
    #[arg(long, default_value = "10.96.0.0/16")]
    pub service_cluster_ip_range: String,
    /// Range the nodes' pod CIDRs are taken from (controller manager).
    #[arg(long, default_value = "10.244.0.0/16")]
    pub cluster_cidr: String,
    /// Addresses LoadBalancer Services get (controller manager): a CIDR or `first-last`. 198.18.0.0/15
    /// is reserved for benchmarking, so it cannot collide with real, Docker, pod or service networks.
    #[arg(long, default_value = DEFAULT_LOAD_BALANCER_IP_RANGE)]
    #[serde(default = "default_load_balancer_ip_range")]
    pub load_balancer_ip_range: String,
    #[command(flatten)]
    #[serde(default)]
    pub node: super::node::NodeArgs,
    #[command(flatten)]
    #[serde(default)]
    pub proxy: super::proxy::ProxyArgs,
}

impl Default for UpArgs {
    fn default() -> Self {
        UpArgs {
            etcd_port: 2379,
            etcd_peer_port: 2380,
            apiserver_port: 6443,
            apiserver_health_port: 6480,
            scheduler_health_port: 10259,
            controller_manager_health_port: 10257,
            node_monitor_grace_period: 40,
            pod_eviction_timeout: 300,
            service_cluster_ip_range: "10.96.0.0/16".into(),
            cluster_cidr: "10.244.0.0/16".into(),
            load_balancer_ip_range: default_load_balancer_ip_range(),
            node: super::node::NodeArgs::default(),
            proxy: super::proxy::ProxyArgs::default(),
        }
    }
}

impl UpArgs {
    fn path(state_dir: &Path) -> PathBuf {
        state_dir.join("cluster.json")
    }

    pub fn save(&self, state_dir: &Path) -> anyhow::Result<()> {
        std::fs::write(Self::path(state_dir), serde_json::to_vec_pretty(self)?).context("writing cluster.json")
    }

    /// The settings of the last `up`, or the defaults.
    pub fn load(state_dir: &Path) -> UpArgs {
        std::fs::read(Self::path(state_dir))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    pub fn apiserver_address(&self) -> String {
        format!("127.0.0.1:{}", self.apiserver_port)
    }

    /// Loopback, and the host's bridge address when nodes in namespaces
    /// reach it over their bridge (never every address of the machine).
    fn apiserver_listen(&self, state_dir: &Path) -> anyhow::Result<String> {
        Ok(match self.node.network(state_dir)? {
            None => self.apiserver_address(),
            Some(network) => format!("{},{}:{}", self.apiserver_address(), network.host_address(), self.apiserver_port),
        })
    }
}

pub struct Component {
    pub name: String,
    pub program: PathBuf,
    pub args: Vec<String>,
    pub health_url: String,
}

pub fn plan(args: &UpArgs, state_dir: &Path) -> anyhow::Result<Vec<Component>> {
    let etcd_url = format!("http://127.0.0.1:{}", args.etcd_port);
    let peer_url = format!("http://127.0.0.1:{}", args.etcd_peer_port);
    let etcd = Component {
        name: "etcd".into(),
        program: find_program("etcd", "install Debian's etcd-server (scripts/setup does)")?,
        args: vec![
            "--name=rk".into(),
            format!("--data-dir={}", data_dir(state_dir).display()),
            format!("--listen-client-urls={etcd_url}"),
            format!("--advertise-client-urls={etcd_url}"),
            format!("--listen-peer-urls={peer_url}"),
            format!("--initial-advertise-peer-urls={peer_url}"),
            format!("--initial-cluster=rk={peer_url}"),
            "--log-level=warn".into(),
        ],
        health_url: format!("{etcd_url}/health"),
    };
    let apiserver = Component {
        name: "rk-apiserver".into(),
        program: find_program("rk-apiserver", "build it with `cargo build --release` (scripts/cluster-up does)")?,
        args: vec![
            format!("--etcd-servers={etcd_url}"),
            format!("--listen={}", args.apiserver_listen(state_dir)?),
            format!("--health-listen=127.0.0.1:{}", args.apiserver_health_port),
            format!("--service-cluster-ip-range={}", args.service_cluster_ip_range),
            format!("--kubelet-token-file={}", super::node::token_file(state_dir)?.display()),
        ],
        health_url: format!("http://127.0.0.1:{}/healthz", args.apiserver_health_port),
    };
    let control_loop = |name: &'static str, health_port: u16, extra: Vec<String>| -> anyhow::Result<Component> {
        let mut flags =
            vec![format!("--server={}", args.apiserver_address()), format!("--health-listen=127.0.0.1:{health_port}")];
        flags.extend(extra);
        Ok(Component {
            name: name.to_string(),
            program: find_program(name, "build it with `cargo build --release` (scripts/cluster-up does)")?,
            args: flags,
            health_url: format!("http://127.0.0.1:{health_port}/healthz"),
        })
    };
    let controller_manager_flags = vec![
        format!("--node-monitor-grace-period={}", args.node_monitor_grace_period),
        format!("--pod-eviction-timeout={}", args.pod_eviction_timeout),
        format!("--cluster-cidr={}", args.cluster_cidr),
        format!("--load-balancer-ip-range={}", args.load_balancer_ip_range),
    ];
    let mut components = vec![
        etcd,
        apiserver,
        control_loop("rk-scheduler", args.scheduler_health_port, Vec::new())?,
        control_loop("rk-controller-manager", args.controller_manager_health_port, controller_manager_flags)?,
    ];
    components.extend(super::node::components(args, state_dir)?);
    Ok(components)
}

fn data_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("etcd-data")
}

pub fn remove_data(args: &UpArgs, state_dir: &Path) -> anyhow::Result<()> {
    for dir in [data_dir(state_dir)].into_iter().chain(super::node::data_dirs(&args.node, state_dir)) {
        if dir.exists() {
            super::node::unmount_under(&dir)?;
            std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
            println!("removed {}", dir.display());
        }
    }
    Ok(())
}

/// rk's own programs are looked for next to rkctl first, then on PATH.
pub fn find_program(name: &str, hint: &str) -> anyhow::Result<PathBuf> {
    let beside_rkctl = std::env::current_exe().ok().and_then(|exe| exe.parent().map(|dir| dir.join(name)));
    let on_path = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).map(|dir| dir.join(name)).collect::<Vec<_>>())
        .unwrap_or_default();
    beside_rkctl
        .into_iter()
        .chain(on_path)
        .find(|candidate| candidate.is_file())
        .with_context(|| format!("{name} not found next to rkctl or on PATH: {hint}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_saved_before_the_load_balancer_range_existed_gets_the_default() {
        let mut saved = serde_json::to_value(UpArgs::default()).unwrap();
        saved.as_object_mut().unwrap().remove("load_balancer_ip_range");
        saved["apiserver_port"] = 7443.into();
        let args: UpArgs = serde_json::from_value(saved).unwrap();
        assert_eq!((args.apiserver_port, args.load_balancer_ip_range.as_str()), (7443, "198.18.255.0/24"));
    }
}
