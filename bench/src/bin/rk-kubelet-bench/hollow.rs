//! Part 4, hollow nodes: `rk-kubelet --hollow-nodes N --runtime=fake`, N
//! whole kubelets in one process on fake runtimes, against a control plane
//! of its own; its resident memory once every node is Ready, then with pods
//! scheduled onto them.

use crate::cluster::{self, Cluster};
use crate::objects::{self, NAMESPACE};
use crate::pod_watch::PodWatch;
use anyhow::{bail, Context};
use rk_bench::procfs::{Memory, Stat};
use rk_bench::sections::{Goal, Section};
use rk_bench::{progress, release};
use rk_client::Client;
use rk_proto::v1::{ListOptions, Node};
use std::process::Stdio;
use std::time::{Duration, Instant};

const GOAL_BYTES: f64 = 1e9;
/// Kubernetes' kubemark budget for one hollow node.
const KUBEMARK_MB_PER_NODE: f64 = 220.0;
const SETTLE: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_secs(1);

/// The hollow kubelets' process at one point.
pub struct Reading {
    pub state: String,
    pub pods: usize,
    pub memory: Memory,
    /// Percent of one core over the window.
    pub cpu: f64,
}

pub struct Outcome {
    pub nodes: usize,
    pub ready_after: Duration,
    pub pods_after: Option<Duration>,
    pub readings: Vec<Reading>,
}

pub async fn run(nodes: usize, pods_per_node: usize, window: Duration) -> anyhow::Result<Section> {
    let cluster = Cluster::control_plane(&cluster_cidr(nodes)?).await?;
    let client = cluster.client().await?;
    let mut kubelet = start(&cluster, nodes)?;
    let pid = kubelet.id().context("rk-kubelet exited at once")?;
    let outcome = measure(&cluster, &client, &mut kubelet, pid, nodes, pods_per_node, window).await;
    cluster::stop(pid);
    let _ = kubelet.wait().await;
    Ok(section(&outcome?, window))
}

/// A range with a /24 (the controller manager's node mask) for each node.
/// Hollow nodes make no networks: their pod CIDRs are API data only.
fn cluster_cidr(nodes: usize) -> anyhow::Result<String> {
    let bits = nodes.max(2).next_power_of_two().trailing_zeros();
    if bits > 16 {
        bail!("--hollow-nodes {nodes}: at most 65536 (each node gets a /24 of 10.0.0.0/8)");
    }
    Ok(format!("10.0.0.0/{}", 24 - bits))
}

fn start(cluster: &Cluster, nodes: usize) -> anyhow::Result<tokio::process::Child> {
    let log = std::fs::File::create(cluster.state_dir().join("logs/hollow-kubelet.log"))
        .context("creating the hollow kubelet's log")?;
    tokio::process::Command::new(release::binary("rk-kubelet")?)
        .arg(format!("--server={}", cluster.server))
        .arg(format!("--hollow-nodes={nodes}"))
        .arg("--runtime=fake")
        .arg("--node-name=hollow")
        .arg("--streaming-listen=127.0.0.1:0")
        .arg(format!("--health-listen=127.0.0.1:{}", rk_testkit::free_port()))
        .arg(format!("--root-dir={}", cluster.state_dir().join("hollow").display()))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .context("starting rk-kubelet --hollow-nodes")
}

async fn measure(
    cluster: &Cluster,
    client: &Client,
    kubelet: &mut tokio::process::Child,
    pid: u32,
    nodes: usize,
    pods_per_node: usize,
    window: Duration,
) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let bar = progress::bar(nodes, "hollow nodes Ready");
    // A thousand kubelets registering and heartbeating: minutes at worst on two cores.
    let deadline = started + Duration::from_secs(60) + Duration::from_millis(300 * nodes as u64);
    loop {
        if let Some(status) = kubelet.try_wait()? {
            bail!("rk-kubelet --hollow-nodes exited ({status}); see {}", log(cluster));
        }
        let ready = ready_nodes(client).await?;
        bar.set_position(ready as u64);
        if ready >= nodes {
            break;
        }
        if Instant::now() > deadline {
            bail!("only {ready} of {nodes} hollow nodes Ready after {:?}; see {}", started.elapsed(), log(cluster));
        }
        tokio::time::sleep(POLL).await;
    }
    bar.finish_and_clear();
    let ready_after = started.elapsed();
    tokio::time::sleep(SETTLE).await;
    let mut readings = vec![read(pid, format!("{nodes} nodes Ready, no pods"), 0, window).await?];
    let mut pods_after = None;
    if pods_per_node > 0 {
        let pods = nodes * pods_per_node;
        objects::create_namespace(client).await?;
        let watch = PodWatch::start(client, NAMESPACE).await?;
        let rc = objects::replication_controller("hollow-pods", pods as i32, &objects::SLEEP);
        let started = Instant::now();
        client.create(rc).await.context("creating the hollow pods' replication controller")?;
        let bar = progress::bar(pods, "hollow pods Running");
        watch
            .wait_for(
                &format!("{pods} pods Running"),
                Duration::from_secs(60) + Duration::from_millis(50 * pods as u64),
                |seen| {
                    let running = seen.values().filter(|s| s.running.is_some()).count();
                    bar.set_position(running as u64);
                    (running >= pods).then_some(())
                },
            )
            .await?;
        bar.finish_and_clear();
        pods_after = Some(started.elapsed());
        tokio::time::sleep(SETTLE).await;
        readings.push(read(pid, format!("{nodes} nodes, {pods} pods Running"), pods, window).await?);
    }
    Ok(Outcome { nodes, ready_after, pods_after, readings })
}

async fn ready_nodes(client: &Client) -> anyhow::Result<usize> {
    let list = client.list::<Node>(ListOptions::default()).await.context("listing nodes")?;
    Ok(list
        .items
        .iter()
        .filter(|node| {
            let conditions = node.status.as_ref().map(|s| s.conditions.as_slice()).unwrap_or_default();
            conditions.iter().any(|c| c.r#type == "Ready" && c.status == "True")
        })
        .count())
}

async fn read(pid: u32, state: String, pods: usize, window: Duration) -> anyhow::Result<Reading> {
    let cpu = || Stat::read(pid).map(|stat| stat.cpu).context("reading the hollow kubelet's CPU time");
    let (started, before) = (Instant::now(), cpu()?);
    let spinner = progress::spinner(&format!("{state}: CPU window"));
    tokio::time::sleep(window).await;
    spinner.finish_and_clear();
    let used = cpu()? - before;
    Ok(Reading {
        state,
        pods,
        memory: Memory::read(pid).context("reading the hollow kubelet's memory")?,
        cpu: used.as_secs_f64() * 100.0 / started.elapsed().as_secs_f64(),
    })
}

fn log(cluster: &Cluster) -> String {
    cluster.state_dir().join("logs/hollow-kubelet.log").display().to_string()
}

fn section(outcome: &Outcome, window: Duration) -> Section {
    let nodes = outcome.nodes;
    let mut rows = String::new();
    for reading in &outcome.readings {
        rows.push_str(&format!(
            "| {} | {:.1} | {:.1} | {:.2} | {:.1} |\n",
            reading.state,
            reading.memory.rss_mib(),
            reading.memory.peak_mib(),
            reading.memory.rss_mib() / nodes as f64,
            reading.cpu
        ));
    }
    let pods = outcome.pods_after.map_or_else(String::new, |after| {
        let count = outcome.readings.last().map_or(0, |r| r.pods);
        format!(" {count} pods (one replication controller) were then all Running after {:.1} s.", after.as_secs_f64())
    });
    let markdown = format!(
        "### {nodes} hollow nodes in one process\n\n\
         `rk-kubelet --hollow-nodes {nodes} --runtime=fake`: {nodes} whole kubelets (registration, heartbeat \
         every 10 s, pod sync, status) on fake runtimes in one process, sharing one connection, against a \
         control plane of their own (`rkctl cluster up --nodes=0`). Every node was Ready after {:.1} s.{pods} \
         RSS from /proc (VmRSS; VmHWM is the peak since start), CPU over a {}-second window as a percentage \
         of one core. Kubernetes' kubemark budgets {KUBEMARK_MB_PER_NODE:.0} MB per hollow node.\n\n\
         | state | RSS MiB | peak RSS MiB | RSS per node MiB | CPU % of a core |\n|---|---:|---:|---:|---:|\n{rows}",
        outcome.ready_after.as_secs_f64(),
        window.as_secs()
    );
    let worst = outcome.readings.iter().map(|r| r.memory.rss_kib).max().unwrap_or(0) as f64 * 1024.0;
    let goal = Goal {
        name: "hollow nodes in one process, RSS",
        target: "≤ 1 GB for 1,000",
        actual: format!("{:.0} MB for {nodes}", worst / 1e6),
        // The goal is for a thousand: below that, the process's fixed cost weighs more per node.
        met: nodes >= 1000 && worst <= GOAL_BYTES,
    };
    Section { markdown, goals: vec![goal] }
}
