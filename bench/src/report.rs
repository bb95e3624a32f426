//! Markdown output: each measurement is a [`Section`]; the full report adds
//! the machine, the command and a summary of the goals, and is written into
//! BENCHMARKS.md between markers so other benchmarks' sections survive.

use anyhow::Context;
use std::path::Path;

const START_MARKER: &str = "<!-- rk-bench:apiserver:start -->";
const END_MARKER: &str = "<!-- rk-bench:apiserver:end -->";

/// One measurement's table and the goals it checks.
pub struct Section {
    pub markdown: String,
    pub goals: Vec<Goal>,
}

/// A target from the issue and what this run achieved.
pub struct Goal {
    pub name: &'static str,
    pub target: &'static str,
    pub actual: String,
    pub met: bool,
}

/// Where the run happened and how it was started.
pub struct RunInfo {
    pub date: String,
    pub command: String,
    pub machine: String,
    /// The commit checked out and when the measured rk-apiserver was built:
    /// the tree may hold uncommitted changes, so the build time says which.
    pub build: String,
}

impl RunInfo {
    pub fn collect() -> RunInfo {
        RunInfo {
            date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            command: std::env::args().collect::<Vec<_>>().join(" "),
            machine: rk_testkit::machine_description(),
            build: build(),
        }
    }
}

fn build() -> String {
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map_or_else(|| "unknown".into(), |output| String::from_utf8_lossy(&output.stdout).trim().to_string());
    let built = crate::apiserver_process::binary_path().and_then(|path| Ok(path.metadata()?.modified()?)).map_or_else(
        |_| "unknown".into(),
        |time| chrono::DateTime::<chrono::Utc>::from(time).format("%Y-%m-%d %H:%M UTC").to_string(),
    );
    format!("commit {commit}, rk-apiserver built {built}")
}

/// The whole apiserver section, markers included.
pub fn render(run: &RunInfo, sections: &[Section]) -> String {
    let mut out = format!(
        "{START_MARKER}\n## rk-apiserver\n\n\
         `rk-bench` starts a throwaway etcd (data on tmpfs, so no disk cost) and the real `rk-apiserver` \
         binary on loopback ports, drives them with `rk-client`, and measures raw etcd with `etcd-client` \
         in the same run as the baseline. Bench, apiserver and etcd share the machine's CPUs, so absolute \
         numbers are lower bounds; the ratios to etcd are what to compare.\n\n\
         Reproduce: `cargo build --release -p rk-apiserver -p rk-bench && target/release/rk-bench` \
         (flags: `--creates N`, `--watchers N`, `--watch-pods N`, `--list-pods N`, \
         `--only create|watch|list|memory`, `--no-write`).\n\n\
         - Date: {}\n- Machine: {}\n- Build: {}\n- Command: `{}`\n\n",
        run.date, run.machine, run.build, run.command
    );
    out.push_str(&goals_table(sections));
    for section in sections {
        out.push('\n');
        out.push_str(&section.markdown);
    }
    out.push_str(END_MARKER);
    out.push('\n');
    out
}

pub fn goals_table(sections: &[Section]) -> String {
    let mut out = String::from("### Goals\n\n| goal | target | this run | met |\n|---|---|---|---|\n");
    for goal in sections.iter().flat_map(|s| &s.goals) {
        let met = if goal.met { "yes" } else { "**no**" };
        out.push_str(&format!("| {} | {} | {} | {met} |\n", goal.name, goal.target, goal.actual));
    }
    out
}

/// `text` made fit for a table cell: one line, no pipes, at most 160
/// characters. Errors nest their cause last, so the end is what is kept.
pub fn cell(text: &str) -> String {
    let flat = text.replace(['\n', '|'], " ");
    let chars = flat.chars().count();
    if chars <= 160 {
        return flat;
    }
    format!("…{}", flat.chars().skip(chars - 160).collect::<String>())
}

/// Replaces the apiserver section of `path` with `section` (appending it if
/// absent, creating the file if missing), leaving everything else as it was.
pub fn write(path: &Path, section: &str) -> anyhow::Result<()> {
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            "# Benchmarks\n\nMeasured numbers for rk; each section says how to reproduce it.\n".to_string()
        }
        Err(error) => return Err(error).with_context(|| format!("reading {}", path.display())),
    };
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
