//! rk-proxy on the local cluster's nodes: its flags (it runs after
//! rk-kubelet on each node) and `rk-proxy --cleanup` at `cluster down`.

use super::components::{find_program, UpArgs};
use anyhow::Context;
use std::path::PathBuf;

#[derive(clap::Args, Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ProxyArgs {
    /// rk-proxy health and metrics port.
    #[arg(long, default_value_t = 10256)]
    pub proxy_health_port: u16,
    /// An extra flag for rk-proxy, e.g. --proxy-arg=--min-sync-period=0.2 (repeatable).
    #[arg(long = "proxy-arg", allow_hyphen_values = true)]
    pub proxy_args: Vec<String>,
}

impl Default for ProxyArgs {
    fn default() -> Self {
        ProxyArgs { proxy_health_port: 10256, proxy_args: Vec::new() }
    }
}

pub fn program() -> anyhow::Result<PathBuf> {
    find_program("rk-proxy", "build it with `cargo build --release` (scripts/cluster-up does)")
}

/// rk-proxy's flags for the node `node_name` whose servers listen on
/// `node_ip`, reaching the apiserver at `server`.
pub fn flags(args: &UpArgs, node_name: &str, node_ip: &str, server: &str) -> Vec<String> {
    let mut flags = vec![
        format!("--server={server}"),
        format!("--node-name={node_name}"),
        format!("--node-ip={node_ip}"),
        format!("--service-cluster-ip-range={}", args.service_cluster_ip_range),
        format!("--cluster-cidr={}", args.cluster_cidr),
        format!("--health-listen={node_ip}:{}", args.proxy.proxy_health_port),
    ];
    flags.extend(args.proxy.proxy_args.iter().cloned());
    flags
}

pub fn health_url(args: &UpArgs, node_ip: &str) -> String {
    format!("http://{node_ip}:{}/healthz", args.proxy.proxy_health_port)
}

/// Runs `rk-proxy --cleanup` for the node on the host's network (a node in a
/// namespace loses its rules with the namespace). rk-proxy must be stopped.
pub fn clean_up(args: &UpArgs) -> anyhow::Result<()> {
    let output = std::process::Command::new(program()?)
        .arg("--cleanup")
        .args(flags(args, "", "127.0.0.1", &args.apiserver_address()))
        .output()
        .context("running rk-proxy --cleanup")?;
    if !output.status.success() {
        anyhow::bail!("rk-proxy --cleanup failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    print!("{}", String::from_utf8_lossy(&output.stdout));
    Ok(())
}
