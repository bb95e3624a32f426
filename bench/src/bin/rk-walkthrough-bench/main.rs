//! rk-walkthrough-bench: times the walkthroughs of `examples/` on a real
//! two-node cluster made by `rkctl cluster up` (the release binaries next to
//! this one): each from `rkctl create` to its pods Running and its Service
//! answering, beside its containers started directly on a node's dockerd;
//! the guestbook's database move; and a node cut off until its pods run on
//! the other node, beside the configured node-lifecycle timeouts. Records
//! the table in BENCHMARKS.md.

mod cluster;
mod create;
mod database_move;
mod docker;
mod node_failure;
mod pods;
mod probe;
mod table;
mod walkthrough;

use anyhow::{bail, Context};
use clap::Parser;
use cluster::Cluster;
use docker::NodeDocker;
use rk_bench::procfs::load_average;
use rk_bench::sections::{self, Markers, RunInfo, WriteFlag};
use rk_bench::{progress, release};
use std::time::Duration;
use table::Row;
use walkthrough::{Walkthrough, ALL, GUESTBOOK};

const MARKERS: Markers =
    Markers { start: "<!-- rk-walkthrough-bench:start -->", end: "<!-- rk-walkthrough-bench:end -->" };

#[derive(Parser, Debug)]
#[command(
    name = "rk-walkthrough-bench",
    about = "Times the walkthroughs, the guestbook's database move and a node failure on a two-node local cluster; records BENCHMARKS.md"
)]
struct Args {
    /// Repetitions of each measurement.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// --node-monitor-grace-period of the cluster, seconds.
    #[arg(long, default_value_t = 10)]
    grace: u64,
    /// --pod-eviction-timeout of the cluster, seconds.
    #[arg(long, default_value_t = 10)]
    eviction: u64,
    #[command(flatten)]
    write: WriteFlag,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.runs == 0 {
        bail!("--runs must be at least 1");
    }
    let run = RunInfo::collect(&release::binary("rkctl")?);
    println!("{}", run.banner("rk-walkthrough-bench"));
    let load_before = load_average();
    // On Ctrl-C the measurement is dropped, and with it the cluster, which tears itself down.
    let rows = tokio::select! {
        rows = measure(&args) => rows?,
        _ = tokio::signal::ctrl_c() => bail!("interrupted; the cluster was torn down"),
    };
    let load = format!(
        "Load average (1 min) at the start and end of the run: {load_before:.2} and {:.2} on {} CPUs; \
         other work (builds, tests) shared them.\n",
        load_average(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let section = table::section(&rows, &load);
    println!("{}", section.markdown);
    let skip = args.write.skip_reason(false);
    sections::record(&MARKERS, &render(&run, &args, &section.markdown), skip)?;
    Ok(())
}

/// Every measurement, `args.runs` times, on one cluster.
async fn measure(args: &Args) -> anyhow::Result<Vec<Row>> {
    let cluster = Cluster::up(args.grace, args.eviction).await?;
    let client = cluster.client().await?;
    for node in ["node1", "node2"] {
        node_failure::wait_ready(&client, node).await?;
    }
    let node1 = NodeDocker::connect(&cluster.docker_host(1)).await?;
    let node2 = NodeDocker::connect(&cluster.docker_host(2)).await?;

    let mut walkthroughs = Vec::new();
    for walkthrough in &ALL {
        let manifests = walkthrough.manifests(&cluster)?;
        let (containers, pods) = Walkthrough::containers(&manifests)?;
        let row = Row::new(
            format!("`{}`: create → {pods} pods Running, Service answering", walkthrough.dir),
            format!("its {} containers started at once with Docker on node1", containers.len()),
        );
        walkthroughs.push(Planned { walkthrough, manifests, containers, pods, row });
    }
    let redis: Vec<_> =
        walkthroughs[0].containers.iter().filter(|c| c.image.starts_with("rk/redis")).cloned().collect();
    let mut moves = Row::new(
        "`guestbook` database move: delete → POST /entries in the new Redis",
        "the Redis container started with Docker on node2",
    );
    let eviction = Duration::from_secs(args.eviction);
    let mut not_ready =
        Row::new("node2 cut off → seen NotReady", format!("--node-monitor-grace-period={}", args.grace));
    let mut failovers = Row::new(
        "node2 cut off → its RC's 4 pods Running on node1",
        format!("NotReady seen + --pod-eviction-timeout={} (each run's floor)", args.eviction),
    );

    let bar = progress::bar(args.runs * (ALL.len() + 1), "runs");
    for _ in 0..args.runs {
        for Planned { walkthrough, manifests, containers, pods, row } in &mut walkthroughs {
            bar.set_message(walkthrough.name);
            row.baseline.push(node1.start_all(containers).await?);
            row.samples.push(create::create(&cluster, &client, walkthrough, manifests, *pods).await?);
            if walkthrough.name == GUESTBOOK.name {
                moves.baseline.push(node2.start_all(&redis).await?);
                moves.samples.push(database_move::run(&cluster).await.context("the database move")?);
            }
            create::delete(&cluster, &client, walkthrough, manifests).await?;
            bar.suspend(|| {
                eprintln!("{}: {:.2?} (Docker: {:.2?})", walkthrough.name, row.samples.last(), row.baseline.last())
            });
            bar.inc(1);
        }
        bar.set_message("node failure");
        let failover = node_failure::run(&cluster, &client).await.context("the node failure")?;
        not_ready.samples.push(failover.not_ready);
        not_ready.baseline.push(Duration::from_secs(args.grace));
        failovers.samples.push(failover.moved);
        failovers.baseline.push(failover.not_ready + eviction);
        bar.suspend(|| {
            eprintln!(
                "node failure: NotReady after {:.2?}, pods moved after {:.2?}",
                failover.not_ready, failover.moved
            )
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    let mut rows: Vec<Row> = walkthroughs.into_iter().map(|planned| planned.row).collect();
    rows.extend([moves, not_ready, failovers]);
    Ok(rows)
}

/// A walkthrough with its manifests, the containers and number of pods they make, and its results.
struct Planned {
    walkthrough: &'static Walkthrough,
    manifests: String,
    containers: Vec<rk_proto::v1::Container>,
    pods: usize,
    row: Row,
}

/// The whole section, markers included.
fn render(run: &RunInfo, args: &Args, table: &str) -> String {
    let intro = format!(
        "`rk-walkthrough-bench` runs `rkctl cluster up --nodes 2 --node-labels node1:disktype=spinning \
         --node-labels node2:disktype=ssd --node-monitor-grace-period={} --pod-eviction-timeout={}` (kubelet \
         heartbeats every 2 s) with the release binaries in a temporary state directory, on free ports and \
         leased pod, node and LoadBalancer ranges, and tears it down at the end (also on a failure or Ctrl-C). \
         Each walkthrough's manifests go, in order, through `rkctl create -f -` (the visits database's hostPath \
         moved under the state directory); it is timed until all its pods are Running and its Service answers 20 requests in a row \
         (guestbook: `GET /entries` through NodePort 30080, which reads Redis; hello: `GET /` on the cluster IP \
         from node1's network namespace; visits: `GET /` through NodePort 30001, which counts in the database; \
         multi-container: `GET /entries` on the LoadBalancer ingress IP), polled every 100 ms, then deleted. The \
         baseline is the same containers (image, command, env; no pause container, volumes or probes) created \
         and started at once on node1's dockerd. The database move follows walkthrough 1 (`rkctl get rc \
         redis-master -o yaml`, spinning → ssd, `rkctl update -f -`, `rkctl delete pods -l \
         app=redis,role=master`), timed from the delete until a `POST /entries` lands in the new, empty Redis. \
         Node failure: an RC of 4 rk/hello pods over both nodes, node2's link cut on the host, timed until all 4 \
         run on node1 (the cut rather than killing node2's kubelet and dockerd: the node comes back by bringing the \
         link up). Its floor is the grace period plus the eviction timeout; the grace period runs from the node's \
         last heartbeat (every 2 s, stamped in whole seconds), which comes up to 3 s before the cut, so NotReady \
         can be seen before the grace period has passed since the cut, and each run's floor is the moment it was \
         seen plus the eviction timeout. Medians and p99 (nearest rank: with {} runs, the slowest) over {} runs \
         each.\n\n\
         Reproduce: `cargo build --release --bins && scripts/build-images && target/release/rk-walkthrough-bench` \
         (flags: `--runs N`, `--grace SECONDS`, `--eviction SECONDS`, `--no-write`).",
        args.grace,
        args.eviction,
        args.runs,
        args.runs
    );
    MARKERS.around("rk-walkthrough-bench", &format!("{intro}\n\n{}\n{table}", run.markdown()))
}
