//! This benchmark's section of BENCHMARKS.md, between its markers, leaving
//! the rest of the file as it was. Each phase has a part of the section with
//! markers of its own, so a run of one phase keeps the others' results.

use anyhow::Context;
use std::path::Path;

const START_MARKER: &str = "<!-- rk-scheduler-bench:start -->";
const END_MARKER: &str = "<!-- rk-scheduler-bench:end -->";

/// The phases' parts, in the order they appear.
pub const SCHEDULER: &str = "scheduler";
pub const RC_SCALE: &str = "rc-scale";
const PARTS: [&str; 2] = [SCHEDULER, RC_SCALE];

/// The scheduler phase's part: what it measures, the run and the tables.
pub fn scheduler_part(tables: &str, command: &str, concurrency: usize) -> String {
    format!(
        "### Scheduling\n\n\
         Nodes are registered through the API (zones, ssd or spinning disks, 4 to 32 cpus), and pods \
         have node selectors (none, a zone, ssd, or both) and cpu and memory requests, grouped 100 per owning \
         controller. Every pod costs at least three etcd writes (create, \
         bind, Scheduled event), so etcd's rate of raw puts ÷ 3, measured in the same run (on an etcd of its own, \
         so the puts do not slow the cluster's), is a ceiling. Each of those writes is conditional (create only \
         if the name is free, bind only if the pod is unchanged), and etcd's rate of create-if-absent \
         transactions, measured the same way, ÷ 3 is the tighter ceiling: what etcd alone, with every CPU of \
         the machine, could store.\n\n\
         - streaming: pods are created ({concurrency} create calls in flight) while the scheduler runs; pods/s = pods ÷ (first create sent → \
         last pod seen bound by a watch); latency = create sent → bound seen by the watch.\n\
         - backlog: every pod exists before the scheduler starts; pods/s = pods ÷ (scheduler start, \
         including its initial list → last pod seen bound).\n\n{}\n{tables}",
        run_details(command)
    )
}

/// The replication controller phase's part.
pub fn rc_scale_part(table: &str, command: &str) -> String {
    format!(
        "### One replication controller scaled from 0\n\n\
         The controller manager's replication controller (default settings: at most 500 creates per sync, \
         in batches of 1, 2, 4, ...) and the scheduler run on runtimes of their own. One \
         ReplicationController (pods of 100m cpu and 128 MiB, no node selector) is created with 0 replicas, \
         then updated to N; times run from that update to the bench's pod watch seeing N pods, and N pods bound. \
         CPU is over the same time, per pod.\n\n{}\n{table}",
        run_details(command)
    )
}

/// Date, machine, build and command of this run, as a list.
fn run_details(command: &str) -> String {
    format!(
        "- Date: {}\n- Machine: {}\n- Build: commit {}\n- Command: `{command}`\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        rk_testkit::machine_description(),
        commit(),
    )
}

/// Replaces this benchmark's section of `path` (appending it if absent) with
/// the `fresh` parts (name, text); the other parts keep their text from the file.
pub fn write(path: &Path, fresh: &[(&str, String)]) -> anyhow::Result<()> {
    let existing = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let old = match (existing.find(START_MARKER), existing.find(END_MARKER)) {
        (Some(start), Some(end)) if start < end => Some((start, end)),
        _ => None,
    };
    let old_section = old.map_or("", |(start, end)| &existing[start..end]);
    let mut section = format!(
        "{START_MARKER}\n## rk-scheduler\n\n\
         `rk-scheduler-bench` starts a throwaway etcd (data on tmpfs) and rk-apiserver in-process. The apiserver, \
         the scheduler, the controller manager and the bench each run on a tokio runtime of their own; all of them \
         and etcd share the machine's CPUs.\n\n\
         Reproduce: `cargo run --release -p rk-scheduler --bin rk-scheduler-bench` (flags: `--sizes \
         1000x10000,5000x30000`, `--concurrency N`, `--bind-concurrency N`, `--etcd-puts N`, `--rc-nodes N`, \
         `--rc-scale N`, `--only scheduler|rc-scale` to run one phase and keep the other's results, `--no-write`).\n\n"
    );
    for name in PARTS {
        let (open, close) =
            (format!("<!-- rk-scheduler-bench:{name}:start -->"), format!("<!-- rk-scheduler-bench:{name}:end -->"));
        let kept = || {
            let start = old_section.find(&open)? + open.len();
            let end = start + old_section[start..].find(&close)?;
            Some(old_section[start..end].trim_matches('\n').to_string() + "\n")
        };
        let text = match fresh.iter().find(|(fresh_name, _)| *fresh_name == name) {
            Some((_, text)) => text.clone(),
            None => kept().unwrap_or_else(|| format!("_Not measured yet: run with `--only {name}`._\n")),
        };
        section.push_str(&format!("{open}\n{text}{close}\n\n"));
    }
    section = section.trim_end().to_string() + "\n" + END_MARKER + "\n";
    let updated = match old {
        Some((start, end)) => {
            let after = existing[end + END_MARKER.len()..].trim_start_matches('\n');
            let gap = if after.is_empty() { "" } else { "\n" };
            format!("{}{section}{gap}{after}", &existing[..start])
        }
        None => format!("{}\n\n{section}", existing.trim_end_matches('\n')),
    };
    std::fs::write(path, updated).with_context(|| format!("writing {}", path.display()))
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
