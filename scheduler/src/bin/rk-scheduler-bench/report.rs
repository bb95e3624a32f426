//! The results as markdown: printed, and written into BENCHMARKS.md between
//! this benchmark's markers, leaving the rest of the file as it was.

use crate::cpu::CpuTimes;
use anyhow::Context;
use std::fmt::Write;
use std::path::Path;
use std::time::Duration;

const START_MARKER: &str = "<!-- rk-scheduler-bench:start -->";
const END_MARKER: &str = "<!-- rk-scheduler-bench:end -->";
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
    pub etcd_puts_per_second: f64,
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
    let mut out = String::from("### Goals\n\n| goal | target | this run | met |\n|---|---|---|---|\n");
    for row in rows.iter().filter(|row| row.mode == Mode::Streaming) {
        let met = if row.pods_per_second >= GOAL_PODS_PER_SECOND { "yes" } else { "**no**" };
        let _ = writeln!(
            out,
            "| pods/s until all bound, {} nodes / {} pods | ≥ {GOAL_PODS_PER_SECOND:.0} | {:.0} | {met} |",
            row.nodes, row.pods, row.pods_per_second
        );
    }
    out.push_str(
        "\n### Throughput and latency\n\n\
         | nodes | pods | mode | pods/s | creates/s | create→bound p50 ms | p99 ms | max ms | etcd puts/s | \
         etcd puts/s ÷ 3 | cycles |\n|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for row in rows {
        let creates = row.creates_per_second.map_or("–".into(), |rate| format!("{rate:.0}"));
        let [p50, p99, max] =
            row.latency.map_or(["–".into(), "–".into(), "–".into()], |l| [ms(l.p50), ms(l.p99), ms(l.max)]);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.0} | {creates} | {p50} | {p99} | {max} | {:.0} | {:.0} | {} |",
            row.nodes,
            row.pods,
            mode_name(row.mode),
            row.pods_per_second,
            row.etcd_puts_per_second,
            row.etcd_puts_per_second / 3.0,
            row.attempts
        );
    }
    out.push_str(
        "\n### CPU per pod\n\nUser + system CPU time from /proc over the measured phase, divided by the pods \
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

/// The whole section, markers included.
pub fn section(tables: &str, command: &str, concurrency: usize) -> String {
    format!(
        "{START_MARKER}\n## rk-scheduler\n\n\
         `rk-scheduler-bench` starts a throwaway etcd (data on tmpfs) and rk-apiserver in-process, registers \
         nodes through the API (zones, ssd or spinning disks, 4 to 32 cpus), and schedules pods with node \
         selectors (none, a zone, ssd, or both) and cpu and memory requests, grouped 100 per owning \
         controller. The apiserver, the scheduler and the bench each run on a tokio runtime of their own; \
         all of them and etcd share the machine's CPUs. Every pod costs at least three etcd writes (create, \
         bind, Scheduled event), so etcd's rate of raw puts ÷ 3, measured in the same run (on an etcd of its own, \
         so the puts do not slow the cluster's), is the ceiling.\n\n\
         - streaming: pods are created ({concurrency} create calls in flight) while the scheduler runs; pods/s = pods ÷ (first create sent → \
         last pod seen bound by a watch); latency = create sent → bound seen by the watch.\n\
         - backlog: every pod exists before the scheduler starts; pods/s = pods ÷ (scheduler start, \
         including its initial list → last pod seen bound).\n\n\
         Reproduce: `cargo run --release -p rk-scheduler --bin rk-scheduler-bench` (flags: `--sizes \
         1000x10000,5000x30000`, `--concurrency N`, `--bind-concurrency N`, `--etcd-puts N`, `--no-write`).\n\n\
         - Date: {}\n- Machine: {}\n- Build: commit {}\n- Command: `{command}`\n\n{tables}{END_MARKER}\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        machine(),
        commit(),
    )
}

/// The commit checked out, and whether the scheduler's files differ from it.
fn commit() -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
    };
    let commit = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
    match git(&["status", "--porcelain", "."]) {
        Some(changes) if !changes.is_empty() => format!("{commit} with uncommitted changes to rk-scheduler"),
        _ => commit,
    }
}

/// CPU count and model, memory and kernel, from /proc.
fn machine() -> String {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpuinfo = read("/proc/cpuinfo");
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name")?.split_once(':').map(|(_, m)| m.trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into());
    let mem_kib: u64 = read("/proc/meminfo")
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:")?.trim().strip_suffix("kB")?.trim().parse().ok())
        .unwrap_or(0);
    format!(
        "{cpus} CPUs ({model}), {:.1} GiB RAM, Linux {}",
        mem_kib as f64 / 1048576.0,
        read("/proc/sys/kernel/osrelease").trim()
    )
}

/// Replaces this benchmark's section of `path` (appending it if absent).
pub fn write(path: &Path, section: &str) -> anyhow::Result<()> {
    let existing = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let updated = match (existing.find(START_MARKER), existing.find(END_MARKER)) {
        (Some(start), Some(end)) if start < end => {
            let after = existing[end + END_MARKER.len()..].trim_start_matches('\n');
            let gap = if after.is_empty() { "" } else { "\n" };
            format!("{}{section}{gap}{after}", &existing[..start])
        }
        _ => format!("{}\n\n{section}", existing.trim_end_matches('\n')),
    };
    std::fs::write(path, updated).with_context(|| format!("writing {}", path.display()))
}
