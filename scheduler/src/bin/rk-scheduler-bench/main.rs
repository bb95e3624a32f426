//! rk-scheduler-bench: scheduler throughput and latency against a real etcd
//! and apiserver, with the etcd write ceiling measured in the same run; and a
//! replication controller scaled from 0, with the controller manager too.

mod bindings;
mod ceiling;
mod cluster;
mod cpu;
mod load;
mod rc_scale;
mod report;
mod section;
mod workload;

use anyhow::Context;
use bindings::Bindings;
use clap::{Parser, ValueEnum};
use cluster::Cluster;
use cpu::CpuTimes;
use prost::Message;
use report::{Latency, Mode, Row};
use rk_client::Client;
use rk_scheduler::Options;
use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
#[command(about = "Measures rk-scheduler's throughput and latency; writes its section of BENCHMARKS.md")]
struct Args {
    /// Cluster sizes to measure, as NODESxPODS, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1000x10000,5000x30000")]
    sizes: Vec<Size>,
    /// Create calls (nodes, pods) and etcd puts in flight at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// The scheduler's binds in flight at once.
    #[arg(long, default_value_t = Options::default().bind_concurrency)]
    bind_concurrency: usize,
    /// Raw etcd puts (and as many create-if-absent transactions) for the write ceiling.
    #[arg(long, default_value_t = 20_000)]
    etcd_puts: usize,
    /// Nodes for the replication controller phase.
    #[arg(long, default_value_t = 1000)]
    rc_nodes: usize,
    /// Replicas the replication controller is scaled to, from 0.
    #[arg(long, default_value_t = 10_000)]
    rc_scale: usize,
    /// Run only this phase; BENCHMARKS.md keeps the other's results.
    #[arg(long, value_enum)]
    only: Option<Phase>,
    /// Print only; leave BENCHMARKS.md alone.
    #[arg(long)]
    no_write: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Phase {
    /// Pods created by the bench, streaming and backlog, for each of `--sizes`.
    Scheduler,
    /// One replication controller scaled from 0 to `--rc-scale`.
    RcScale,
}

#[derive(Debug, Clone, Copy)]
struct Size {
    nodes: usize,
    pods: usize,
}

impl FromStr for Size {
    type Err = String;
    fn from_str(text: &str) -> Result<Size, String> {
        let parse = || -> Option<Size> {
            let (nodes, pods) = text.split_once('x')?;
            Some(Size { nodes: nodes.parse().ok()?, pods: pods.parse().ok()? })
        };
        parse().filter(|size| size.nodes > 0 && size.pods > 0).ok_or_else(|| format!("{text:?} is not NODESxPODS"))
    }
}

/// Connections the bench creates objects over.
pub const CONNECTIONS: usize = 8;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runs = |phase| args.only.is_none_or(|only| only == phase);
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let mut parts = Vec::new();
    if runs(Phase::Scheduler) {
        let mut rows = Vec::new();
        for &size in &args.sizes {
            for mode in [Mode::Streaming, Mode::Backlog] {
                eprintln!("{} nodes, {} pods, {mode:?}...", size.nodes, size.pods);
                rows.push(measure(size, mode, &args).await.with_context(|| format!("{size:?} {mode:?}"))?);
            }
        }
        let tables = report::tables(&rows);
        println!("{tables}");
        parts.push((section::SCHEDULER, section::scheduler_part(&tables, &command, args.concurrency)));
    }
    if runs(Phase::RcScale) {
        eprintln!("{} nodes, one replication controller scaled from 0 to {}...", args.rc_nodes, args.rc_scale);
        let run = rc_scale::measure(args.rc_nodes, args.rc_scale, args.concurrency).await.context("rc-scale")?;
        let table = rc_scale::table(&run);
        println!("{table}");
        parts.push((section::RC_SCALE, section::rc_scale_part(&table, &command)));
    }
    if !args.no_write {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace").join("BENCHMARKS.md");
        section::write(&path, &parts)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

async fn measure(size: Size, mode: Mode, args: &Args) -> anyhow::Result<Row> {
    let ceiling = ceiling::measure(args.etcd_puts, args.concurrency, workload::pod_for(0).encode_to_vec()).await?;
    let cluster = Cluster::start().await?;
    let etcd_pid = cpu::etcd_pid()?;
    let clients = Arc::new(cluster.clients(CONNECTIONS).await?);
    create(&clients, size.nodes, args.concurrency, workload::node).await.context("creating nodes")?;
    let bindings = Bindings::watch(&clients[0]).await;
    let options = Options { bind_concurrency: args.bind_concurrency, ..Options::default() };
    // Generous: ten times the goal's time, plus a minute.
    let within =
        Duration::from_secs(60) + Duration::from_secs_f64(size.pods as f64 * 10.0 / report::GOAL_PODS_PER_SECOND);
    let row = |pods_per_second, creates_per_second, latency, cpu, attempts| Row {
        nodes: size.nodes,
        pods: size.pods,
        mode,
        pods_per_second,
        creates_per_second,
        latency,
        ceiling,
        cpu,
        attempts,
    };
    match mode {
        Mode::Streaming => {
            let scheduler = cluster.start_scheduler(options).await?;
            // A first pod bound shows the scheduler's caches are synced.
            clients[0].create(rk_scheduler::testing::pod("warm-up", &[], &[])).await?;
            bindings.wait_for(1, Duration::from_secs(60)).await?;
            let attempts_before = scheduler.metrics.attempts.load(Relaxed);
            let cpu_before = CpuTimes::sample(etcd_pid)?;
            let sent =
                create(&clients, size.pods, args.concurrency, workload::pod_for).await.context("creating pods")?;
            let created = Instant::now();
            bindings.wait_for(size.pods + 1, within).await?;
            let cpu = CpuTimes::sample(etcd_pid)? - cpu_before;
            let bound: Vec<Instant> = (0..size.pods).map(|i| bound_at(&bindings, i)).collect::<anyhow::Result<_>>()?;
            let first_sent = sent[0];
            let last_bound = *bound.iter().max().expect("pods");
            let latencies =
                sent.iter().zip(&bound).map(|(sent, bound)| bound.saturating_duration_since(*sent)).collect();
            Ok(row(
                ceiling::per_second(size.pods, last_bound - first_sent),
                Some(ceiling::per_second(size.pods, created - first_sent)),
                Some(Latency::of(latencies)),
                cpu,
                scheduler.metrics.attempts.load(Relaxed) - attempts_before,
            ))
        }
        Mode::Backlog => {
            create(&clients, size.pods, args.concurrency, workload::pod_for).await.context("creating pods")?;
            let cpu_before = CpuTimes::sample(etcd_pid)?;
            let started = Instant::now();
            let scheduler = cluster.start_scheduler(options).await?;
            bindings.wait_for(size.pods, within).await?;
            let cpu = CpuTimes::sample(etcd_pid)? - cpu_before;
            let last_bound = (0..size.pods).map(|i| bound_at(&bindings, i)).collect::<anyhow::Result<Vec<_>>>()?;
            let last_bound = *last_bound.iter().max().expect("pods");
            Ok(row(
                ceiling::per_second(size.pods, last_bound - started),
                None,
                None,
                cpu,
                scheduler.metrics.attempts.load(Relaxed),
            ))
        }
    }
}

fn bound_at(bindings: &Bindings, i: usize) -> anyhow::Result<Instant> {
    let name = workload::pod_for(i).metadata.map(|meta| meta.name).unwrap_or_default();
    bindings.bound_at(&name).with_context(|| format!("{name} was never seen bound"))
}

/// Creates `make(0..count)` over the clients; returns when each create was sent.
pub async fn create<R, F>(
    clients: &Arc<Vec<Client>>,
    count: usize,
    concurrency: usize,
    make: F,
) -> anyhow::Result<Vec<Instant>>
where
    R: rk_client::KindClient,
    F: Fn(usize) -> R + Send + Sync + 'static,
{
    let clients = Arc::clone(clients);
    load::run(count, concurrency, move |worker, i| {
        let (client, object) = (clients[worker % clients.len()].clone(), make(i));
        async move {
            client.create(object).await?;
            Ok(())
        }
    })
    .await
}
