//! rk-scheduler: watches unbound pods and nodes and binds each pod to a node that fits it.

use anyhow::Context;
use clap::Parser;
use rk_client::{status_server, Client};
use rk_scheduler::{LeaderElection, Options, Scheduler};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address of the rk apiserver.
    #[arg(long, env = "RK_SERVER", default_value = "127.0.0.1:6443")]
    server: String,

    /// Take the leader lock (kube-system/rk-scheduler) before scheduling, so
    /// that a second scheduler can stand by.
    #[arg(long, env = "RK_LEADER_ELECT", default_value_t = true, action = clap::ArgAction::Set)]
    leader_elect: bool,

    /// How long a leader's lease lasts without renewal.
    #[arg(long, env = "RK_LEADER_ELECT_LEASE_SECONDS", default_value_t = 15)]
    leader_elect_lease_seconds: u64,

    /// How often the leader renews and stand-bys retry.
    #[arg(long, env = "RK_LEADER_ELECT_RETRY_SECONDS", default_value_t = 2)]
    leader_elect_retry_seconds: u64,

    /// Binds in flight at once.
    #[arg(long, env = "RK_BIND_CONCURRENCY", default_value_t = Options::default().bind_concurrency)]
    bind_concurrency: usize,

    /// Address for HTTP /healthz and /metrics.
    #[arg(long, env = "RK_SCHEDULER_HEALTH_LISTEN", default_value = "127.0.0.1:10259")]
    health_listen: String,

    /// Share of the nodes (1-100) to find feasible before scoring; adapts to the cluster size if unset.
    #[arg(long, env = "RK_PERCENTAGE_OF_NODES_TO_SCORE", value_parser = clap::value_parser!(u32).range(1..=100))]
    percentage_of_nodes_to_score: Option<u32>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    rk_client::daemon::init_logging();
    let args = Args::parse();
    let client = Client::connect(&args.server).await?;
    let options = Options {
        leader_election: args.leader_elect.then(|| LeaderElection {
            identity: identity(),
            lease: Duration::from_secs(args.leader_elect_lease_seconds),
            retry: Duration::from_secs(args.leader_elect_retry_seconds),
        }),
        bind_concurrency: args.bind_concurrency,
        percentage_of_nodes_to_score: args.percentage_of_nodes_to_score,
        ..Options::default()
    };
    let scheduler = Scheduler::new(client, options);
    let metrics = scheduler.metrics();
    status_server::start(&args.health_listen, Arc::new(move || metrics.render()))
        .await
        .with_context(|| format!("binding {}", args.health_listen))?;
    scheduler.run(rk_client::daemon::shutdown_signal()).await.context("rk-scheduler stopped")
}

/// `hostname_pid`: unique per running instance.
fn identity() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_else(|_| "localhost".into());
    format!("{}_{}", host.trim(), std::process::id())
}
