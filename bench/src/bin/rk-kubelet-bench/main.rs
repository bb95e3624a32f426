//! rk-kubelet-bench: measures rk-kubelet on a real cluster made by
//! `rkctl cluster up` (the release binaries next to this one) and records
//! the tables in BENCHMARKS.md: pod start beside the same Docker calls made
//! directly, replacement of a replication controller's pod, the kubelet's
//! memory and CPU, and many hollow nodes in one process.

mod cluster;
mod docker;
mod hollow;
mod node;
mod objects;
mod phases;
mod pod_start;
mod pod_watch;
mod replacement;
mod resources;

use anyhow::bail;
use clap::{Parser, ValueEnum};
use node::NodeBench;
use rk_bench::release;
use rk_bench::sections::{self, Markers, PrintedSections, RunInfo, Section, WriteFlag};
use std::time::Duration;

const MARKERS: Markers = Markers { start: "<!-- rk-kubelet-bench:start -->", end: "<!-- rk-kubelet-bench:end -->" };

#[derive(Parser, Debug)]
#[command(
    name = "rk-kubelet-bench",
    about = "Benchmarks rk-kubelet against direct Docker calls, and hollow nodes; records the results in BENCHMARKS.md"
)]
struct Args {
    /// Pods per pod-start run (one at a time, then at once), and Running pods for the memory and CPU reading.
    #[arg(long, default_value_t = 50)]
    pods: usize,
    /// Replicas of the replication controller whose pods are deleted.
    #[arg(long, default_value_t = 10)]
    replicas: usize,
    /// Pods deleted, one at a time, in the replacement part.
    #[arg(long, default_value_t = 20)]
    deletions: usize,
    /// Seconds of each CPU window.
    #[arg(long, default_value_t = 30)]
    cpu_window: u64,
    /// Hollow nodes in one rk-kubelet process.
    #[arg(long, default_value_t = 1000)]
    hollow_nodes: usize,
    /// Pods per hollow node, scheduled once they are Ready (0: none).
    #[arg(long, default_value_t = 10)]
    hollow_pods_per_node: usize,
    /// Run the node on this dockerd (unix:///path/docker.sock) instead of one the cluster starts.
    #[arg(long)]
    docker_host: Option<String>,
    /// Run one part only (BENCHMARKS.md is then left alone: its tables come from one full run).
    #[arg(long, value_enum)]
    only: Option<Part>,
    #[command(flatten)]
    write: WriteFlag,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
enum Part {
    PodStart,
    Replacement,
    Resources,
    Hollow,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if [args.pods, args.replicas, args.deletions, args.hollow_nodes].contains(&0) || args.cpu_window == 0 {
        bail!("--pods, --replicas, --deletions, --hollow-nodes and --cpu-window must be at least 1");
    }
    let run = RunInfo::collect(&release::binary("rk-kubelet")?);
    release::binary("rkctl")?;
    println!("{}", run.banner("rk-kubelet-bench"));

    // On Ctrl-C the measurement is dropped, and with it the clusters, which tear themselves down.
    let sections = tokio::select! {
        sections = measure(&args) => sections?,
        _ = tokio::signal::ctrl_c() => bail!("interrupted; the clusters were torn down"),
    };
    println!("{}", sections::goals_table(&sections));
    let skip = args.write.skip_reason(args.only.is_some());
    sections::record(&MARKERS, &render(&run, &args, &sections), skip)?;
    Ok(())
}

/// Runs the selected parts, printing each table as it is done.
async fn measure(args: &Args) -> anyhow::Result<Vec<Section>> {
    let wanted = |part: Part| args.only.is_none_or(|only| only == part);
    let mut sections = PrintedSections::default();
    let window = Duration::from_secs(args.cpu_window);
    if wanted(Part::PodStart) || wanted(Part::Replacement) || wanted(Part::Resources) {
        let bench = NodeBench::start(args.docker_host.as_deref()).await?;
        // Idle first, before any pod ever ran on the node.
        let idle = match wanted(Part::Resources) {
            true => Some(resources::idle(&bench, window).await?),
            false => None,
        };
        if wanted(Part::PodStart) {
            sections.push(pod_start::run(&bench, args.pods).await?);
        }
        if let Some(idle) = idle {
            let loaded = resources::with_pods(&bench, args.pods, window).await?;
            sections.push(resources::section(&idle, &loaded, args.pods, window));
        }
        if wanted(Part::Replacement) {
            sections.push(replacement::run(&bench, args.replicas, args.deletions).await?);
        }
    }
    if wanted(Part::Hollow) {
        sections.push(hollow::run(args.hollow_nodes, args.hollow_pods_per_node, window).await?);
    }
    Ok(sections.into_vec())
}

/// The whole kubelet section, markers included.
fn render(run: &RunInfo, args: &Args, sections: &[Section]) -> String {
    let docker = match &args.docker_host {
        Some(host) => format!("the dockerd at `{host}`"),
        None => "a dockerd of the cluster's own (overlay2, data in the state directory)".to_string(),
    };
    let intro = format!(
        "`rk-kubelet-bench` runs `rkctl cluster up` with the release binaries in a temporary state directory on \
         free loopback ports: etcd, rk-apiserver, rk-scheduler, rk-controller-manager and one node (rk-kubelet \
         with its default flags on {docker}, pods on a bridge network in a pod CIDR of the bench's own). It \
         drives the cluster with `rk-client` and Docker with `bollard`, and tears everything down at the end \
         (also on a failure or Ctrl-C). Everything shares the machine's CPUs.\n\n\
         Reproduce: `cargo build --release --bins && scripts/build-images && target/release/rk-kubelet-bench` \
         (flags: `--pods N`, `--replicas N`, `--deletions N`, `--cpu-window SECONDS`, `--hollow-nodes N`, \
         `--hollow-pods-per-node N`, `--docker-host unix:///…`, \
         `--only pod-start|replacement|resources|hollow`, `--no-write`)."
    );
    let body = format!("{intro}\n\n{}\n{}", run.markdown(), sections::goals_and_sections(sections));
    MARKERS.around("rk-kubelet", &body)
}
