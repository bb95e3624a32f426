//! rk-controller-manager: runs rk's controllers against the apiserver.

use anyhow::Context;
use clap::Parser;
use rk_client::leader::LeaderElection;
use rk_client::status_server;
use rk_client::Client;
use rk_controller_manager::{start_all, ControllerContext, Settings};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(name = "rk-controller-manager", version, about = "rk's controllers")]
struct Args {
    /// apiserver address.
    #[arg(long, env = "RK_SERVER", default_value = "127.0.0.1:6443")]
    server: String,
    /// Seconds without a heartbeat before a node becomes Ready=Unknown.
    #[arg(long, default_value_t = 40)]
    node_monitor_grace_period: u64,
    /// Seconds a node may stay not ready before its pods are deleted.
    #[arg(long, default_value_t = 300)]
    pod_eviction_timeout: u64,
    /// Range node pod CIDRs are taken from.
    #[arg(long, default_value = "10.244.0.0/16")]
    cluster_cidr: String,
    /// Prefix length of each node's pod CIDR.
    #[arg(long, default_value_t = 24)]
    node_cidr_mask_size: u8,
    /// Addresses for LoadBalancer Services' ingress: a CIDR (its network and broadcast
    /// addresses left out) or an inclusive `first-last` range. The default lies in
    /// 198.18.0.0/15, reserved for benchmarking (RFC 2544), so it cannot collide with a real
    /// network, Docker's address pools (172.17.0.0/16 and up, 192.168.0.0/16), the pod CIDR
    /// 10.244.0.0/16 or the service range 10.96.0.0/16.
    #[arg(long, default_value = rk_controller_manager::load_balancer::DEFAULT_IP_RANGE)]
    load_balancer_ip_range: String,
    /// Seconds between informer resyncs.
    #[arg(long, default_value_t = 30)]
    resync_period: u64,
    /// Address for HTTP /healthz and /metrics.
    #[arg(long, env = "RK_CONTROLLER_MANAGER_HEALTH_LISTEN", default_value = "127.0.0.1:10257")]
    health_listen: String,
    /// Run only while holding the leader lock (kube-system/rk-controller-manager), so a second instance can stand by.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    leader_elect: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    rk_client::daemon::init_logging();
    let args = Args::parse();
    let client = Client::connect(&args.server).await?;
    let leading = Arc::new(AtomicBool::new(false));
    let metrics_leading = Arc::clone(&leading);
    status_server::start(
        &args.health_listen,
        Arc::new(move || {
            let leader = u8::from(metrics_leading.load(Ordering::Relaxed));
            format!("# HELP rk_controller_manager_leader 1 while this instance runs the controllers.\n# TYPE rk_controller_manager_leader gauge\nrk_controller_manager_leader {leader}\n")
        }),
    )
    .await
    .with_context(|| format!("binding {}", args.health_listen))?;
    let lost = if args.leader_elect {
        let identity = format!("{}_{}", hostname(), std::process::id());
        let election = LeaderElection {
            client: client.clone(),
            namespace: "kube-system".into(),
            name: "rk-controller-manager".into(),
            identity,
            lease: Duration::from_secs(15),
            retry: Duration::from_secs(2),
        };
        Some(election.acquire().await)
    } else {
        None
    };
    let settings = Settings {
        resync: Duration::from_secs(args.resync_period),
        node_monitor_grace_period: Duration::from_secs(args.node_monitor_grace_period),
        pod_eviction_timeout: Duration::from_secs(args.pod_eviction_timeout),
        cluster_cidr: args.cluster_cidr,
        node_cidr_mask_size: args.node_cidr_mask_size,
        load_balancer_ip_range: args.load_balancer_ip_range,
    };
    start_all(&ControllerContext::new(client, settings))?;
    leading.store(true, Ordering::Relaxed);
    tracing::info!("rk-controller-manager running");
    match lost {
        Some(mut lost) => {
            let _ = lost.wait_for(|lost| *lost).await;
            anyhow::bail!("lost leadership; exiting so a stand-by can take over")
        }
        None => std::future::pending().await,
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}
