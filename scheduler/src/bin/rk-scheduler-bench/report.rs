//! The scheduler phase's results as markdown tables.

use crate::ceiling::Ceiling;
use crate::cpu::CpuTimes;
use std::fmt::Write;
use std::time::Duration;

/// The goal: the placement rate of Nomad's one-million-container run.
pub const GOAL_PODS_PER_SECOND: f64 = 3750.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Pods are created while the scheduler runs.
    Streaming,
    /// Every pod exists before the scheduler starts.
    Backlog,
}

/// One measured run.
pub struct Row {
    pub nodes: usize,
    pub pods: usize,
    pub mode: Mode,
    pub pods_per_second: f64,
    /// Streaming only: how fast the bench created the pods.
    pub creates_per_second: Option<f64>,
    /// Streaming only: create sent → bound seen by a watch.
    pub latency: Option<Latency>,
    pub ceiling: Ceiling,
    pub cpu: CpuTimes,
    /// Scheduling cycles run; more than `pods` means retries.
    pub attempts: u64,
}

#[derive(Debug, Clone, Copy)]
pub struct Latency {
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Latency {
    /// Nearest-rank percentiles: each is a latency some pod really had.
    pub fn of(mut samples: Vec<Duration>) -> Latency {
        samples.sort_unstable();
        let rank = |percent: usize| samples[(samples.len() * percent).div_ceil(100).max(1) - 1];
        Latency { p50: rank(50), p99: rank(99), max: *samples.last().expect("at least one sample") }
    }
}

fn ms(duration: Duration) -> String {
    format!("{:.1}", duration.as_secs_f64() * 1000.0)
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Streaming => "streaming",
        Mode::Backlog => "backlog",
    }
}

/// The tables: goals, throughput and latency, CPU per pod.
pub fn tables(rows: &[Row]) -> String {
    let mut out = String::from("#### Goals\n\n| goal | target | this run | met |\n|---|---|---|---|\n");
    for row in rows.iter().filter(|row| row.mode == Mode::Streaming) {
        let met = if row.pods_per_second >= GOAL_PODS_PER_SECOND { "yes" } else { "**no**" };
        let _ = writeln!(
            out,
            "| pods/s until all bound, {} nodes / {} pods | ≥ {GOAL_PODS_PER_SECOND:.0} | {:.0} | {met} |",
            row.nodes, row.pods, row.pods_per_second
        );
    }
    out.push_str(
        "\n#### Throughput and latency\n\n\
         | nodes | pods | mode | pods/s | creates/s | create→bound p50 ms | p99 ms | max ms | etcd puts/s | \
         etcd puts/s ÷ 3 | etcd creates-if-absent/s | ÷ 3 | cycles |\n\
         |---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for row in rows {
        let creates = row.creates_per_second.map_or("–".into(), |rate| format!("{rate:.0}"));
        let [p50, p99, max] =
            row.latency.map_or(["–".into(), "–".into(), "–".into()], |l| [ms(l.p50), ms(l.p99), ms(l.max)]);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.0} | {creates} | {p50} | {p99} | {max} | {:.0} | {:.0} | {:.0} | {:.0} | {} |",
            row.nodes,
            row.pods,
            mode_name(row.mode),
            row.pods_per_second,
            row.ceiling.puts_per_second,
            row.ceiling.puts_per_second / 3.0,
            row.ceiling.creates_if_absent_per_second,
            row.ceiling.creates_if_absent_per_second / 3.0,
            row.attempts
        );
    }
    out.push_str(
        "\n#### CPU per pod\n\nUser + system CPU time from /proc over the measured phase, divided by the pods \
         (µs). The bench column includes creating the pods (streaming) and the watch that sees them bound. \
         The last column is the machine's CPUs divided by the total: where it is close to the measured pods/s, \
         the run was bound by CPU, and reaching the goal needs less CPU per pod, not more concurrency.\n\n\
         | nodes | pods | mode | apiserver | scheduler | etcd | bench | total | pods/s the CPUs allow at that cost |\n\
         |---:|---:|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for row in rows {
        let per_pod = |cpu: Duration| cpu.as_secs_f64() * 1e6 / row.pods as f64;
        let cpu = row.cpu;
        let total = cpu.apiserver + cpu.scheduler + cpu.etcd + cpu.bench;
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} |",
            row.nodes,
            row.pods,
            mode_name(row.mode),
            per_pod(cpu.apiserver),
            per_pod(cpu.scheduler),
            per_pod(cpu.etcd),
            per_pod(cpu.bench),
            per_pod(total),
            cpus * 1e6 / per_pod(total).max(f64::EPSILON)
        );
    }
    out
}
