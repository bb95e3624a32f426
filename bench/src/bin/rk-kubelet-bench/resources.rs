//! Part 3, the kubelet's own cost: its resident memory with no pods and with
//! a steady set of pods, and the CPU it (and the dockerd it polls) spends
//! over a window while nothing changes.

use crate::cluster::Cluster;
use crate::node::NodeBench;
use crate::pod_start::{self, Mode};
use anyhow::Context;
use rk_bench::procfs::{Memory, Stat};
use rk_bench::progress;
use rk_bench::sections::{Goal, Section};
use std::time::{Duration, Instant};

/// Time for start-up work or the last pod's status writes to finish before a reading.
const SETTLE: Duration = Duration::from_secs(5);
const GOAL_CPU_PERCENT: f64 = 1.0;

/// The kubelet's memory at the end of a window, and the CPU spent during it.
pub struct Reading {
    pub memory: Memory,
    /// Percent of one core.
    pub kubelet_cpu: f64,
    /// Percent of one core; `None` when the node runs on a dockerd the cluster did not start.
    pub dockerd_cpu: Option<f64>,
}

/// The kubelet with no pods.
pub async fn idle(bench: &NodeBench, window: Duration) -> anyhow::Result<Reading> {
    tokio::time::sleep(SETTLE).await;
    read(&bench.cluster, window, "idle kubelet: CPU window").await
}

/// The kubelet with `pods` Running pods (started at once), which are removed afterwards.
pub async fn with_pods(bench: &NodeBench, pods: usize, window: Duration) -> anyhow::Result<Reading> {
    pod_start::start_kubelet_pods(bench, "steady", pods, Mode::AtOnce).await?;
    tokio::time::sleep(SETTLE).await;
    let reading = read(&bench.cluster, window, &format!("kubelet with {pods} pods: CPU window")).await?;
    bench.clear().await?;
    Ok(reading)
}

async fn read(cluster: &Cluster, window: Duration, what: &str) -> anyhow::Result<Reading> {
    let kubelet = cluster.pid("rk-kubelet")?;
    let dockerd = cluster.pid("dockerd").ok();
    let cpu = |pid: u32| Stat::read(pid).map(|stat| stat.cpu).with_context(|| format!("reading /proc/{pid}/stat"));
    let started = Instant::now();
    let (kubelet_before, dockerd_before) = (cpu(kubelet)?, dockerd.map(cpu).transpose()?);
    let spinner = progress::spinner(what);
    tokio::time::sleep(window).await;
    spinner.finish_and_clear();
    let (kubelet_after, dockerd_after) = (cpu(kubelet)?, dockerd.map(cpu).transpose()?);
    let elapsed = started.elapsed().as_secs_f64();
    let percent = |before: Duration, after: Duration| (after - before).as_secs_f64() * 100.0 / elapsed;
    Ok(Reading {
        memory: Memory::read(kubelet).context("reading the kubelet's memory")?,
        kubelet_cpu: percent(kubelet_before, kubelet_after),
        dockerd_cpu: dockerd_before.zip(dockerd_after).map(|(before, after)| percent(before, after)),
    })
}

pub fn section(idle: &Reading, loaded: &Reading, pods: usize, window: Duration) -> Section {
    let row = |state: &str, reading: &Reading| {
        let dockerd = reading.dockerd_cpu.map_or_else(|| "not measured".into(), |cpu| format!("{cpu:.2}"));
        format!(
            "| {state} | {:.1} | {:.1} | {:.2} | {dockerd} |\n",
            reading.memory.rss_mib(),
            reading.memory.peak_mib(),
            reading.kubelet_cpu
        )
    };
    let markdown = format!(
        "### Kubelet memory and CPU\n\n\
         The rk-kubelet process (pid from the state directory) read from /proc: VmRSS (resident now) and VmHWM \
         (the peak since it started, so it includes the earlier parts of the run), and user + system CPU time \
         over a {}-second window in which nothing changes, as a percentage of one core. The dockerd it polls \
         (every second, `--relist-period`) beside it.\n\n\
         | state | kubelet RSS MiB | kubelet peak RSS MiB | kubelet CPU % of a core | dockerd CPU % of a core |\n\
         |---|---:|---:|---:|---:|\n{}{}",
        window.as_secs(),
        row("no pods", idle),
        row(&format!("{pods} Running pods"), loaded)
    );
    let goal = Goal {
        name: "kubelet CPU with steady pods",
        target: "< 1 % of a core",
        actual: format!("{:.2} % ({pods} pods)", loaded.kubelet_cpu),
        met: loaded.kubelet_cpu < GOAL_CPU_PERCENT,
    };
    Section { markdown, goals: vec![goal] }
}
