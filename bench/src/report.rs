//! Markdown output: each measurement is a [`Section`]; the full report adds
//! the machine, the command and a summary of the goals, and is written into
//! BENCHMARKS.md between markers so other benchmarks' sections survive.

pub use rk_bench::sections::{cell, goals_table, Goal, RunInfo, Section};
use rk_bench::sections::{goals_and_sections, Markers};

pub const MARKERS: Markers =
    Markers { start: "<!-- rk-bench:apiserver:start -->", end: "<!-- rk-bench:apiserver:end -->" };

/// The whole apiserver section, markers included.
pub fn render(run: &RunInfo, sections: &[Section]) -> String {
    let intro = "`rk-bench` starts a throwaway etcd (data on tmpfs, so no disk cost) and the real `rk-apiserver` \
         binary on loopback ports, drives them with `rk-client`, and measures raw etcd with `etcd-client` \
         in the same run as the baseline. Bench, apiserver and etcd share the machine's CPUs, so absolute \
         numbers are lower bounds; the ratios to etcd are what to compare.\n\n\
         Reproduce: `cargo build --release -p rk-apiserver -p rk-bench && target/release/rk-bench` \
         (flags: `--creates N`, `--watchers N`, `--watch-pods N`, `--list-pods N`, \
         `--only create|watch|list|memory`, `--no-write`).";
    MARKERS.around("rk-apiserver", &format!("{intro}\n\n{}\n{}", run.markdown(), goals_and_sections(sections)))
}
