//! Where a kubelet pod's start goes: the bench's watch says when the pod was
//! bound and seen Running, Docker says when it created and started the
//! pod's two containers; the gaps between them are the phases.

use crate::docker::{BaselinePod, PodContainers};
use crate::pod_start::{Mode, Run};
use crate::pod_watch::Seen;
use anyhow::Context;
use chrono::{DateTime, Utc};
use rk_bench::stats::{ms, Summary};
use std::time::{Duration, Instant};

/// One kubelet pod's start, every instant on the bench's monotonic clock.
#[derive(Debug, Clone, Copy)]
pub struct PodTimes {
    created: Instant,
    bound: Instant,
    sandbox_created: Instant,
    sandbox_started: Instant,
    app_created: Instant,
    app_started: Instant,
    running: Instant,
}

/// Each phase's short name (for the findings) and its row in the table.
const KUBELET_PHASES: [(&str, &str); 6] = [
    ("scheduling", "create call → bound (scheduler; seen by the bench's watch)"),
    ("bound → sandbox created", "bound → sandbox created (kubelet: pod watch, work queue, container list, admission)"),
    (
        "the pause container's start",
        "sandbox created → started (Docker: pause container create + start, network set-up)",
    ),
    (
        "sandbox started → app container created",
        "sandbox started → app container created (kubelet: container list, image check, env)",
    ),
    ("the app container's start", "app container created → started (Docker: create + start)"),
    (
        "app started → Running seen",
        "app started → Running seen (kubelet: container list, status write; apiserver → the bench's watch)",
    ),
];

impl PodTimes {
    /// `created`: when the create call was made; `seen`: what the watch saw.
    pub fn new(created: Instant, seen: &Seen, docker: PodContainers) -> anyhow::Result<PodTimes> {
        Ok(PodTimes {
            created,
            bound: seen.bound.with_context(|| format!("pod {} Running but never seen bound", seen.name))?,
            sandbox_created: instant_of(docker.sandbox_created),
            sandbox_started: instant_of(docker.sandbox_started),
            app_created: instant_of(docker.app_created),
            app_started: instant_of(docker.app_started),
            running: seen.running.with_context(|| format!("pod {} never seen Running", seen.name))?,
        })
    }

    /// Create call → seen Running.
    pub fn total(&self) -> Duration {
        self.running.saturating_duration_since(self.created)
    }

    fn phases(&self) -> [Duration; 6] {
        let steps = [
            self.created,
            self.bound,
            self.sandbox_created,
            self.sandbox_started,
            self.app_created,
            self.app_started,
            self.running,
        ];
        std::array::from_fn(|i| steps[i + 1].saturating_duration_since(steps[i]))
    }
}

/// A wall-clock time (Docker's) on the monotonic clock: both clocks are read
/// together now, and neither is adjusted over a run of minutes.
fn instant_of(wall: DateTime<Utc>) -> Instant {
    let (now, wall_now) = (Instant::now(), Utc::now());
    let ago = (wall_now - wall).to_std().unwrap_or(Duration::ZERO);
    now.checked_sub(ago).unwrap_or(now)
}

/// The phase table of both modes: p50 and p99 of each phase.
pub fn table(runs: &[Run], pods: usize) -> String {
    let mut out = String::from(
        "Where the kubelet's time goes: the bench's watch gives when each pod was bound and seen Running, \
         Docker's inspect when the kubelet's containers were created and started (Docker stamps a container \
         created when its create call begins, started when its process runs). Each phase's p50 and p99 are over \
         the pods of that run, so they do not add up to the total's. Docker direct rows time each call of the \
         baseline.\n\n",
    );
    let header: Vec<String> = runs.iter().map(|run| run_label(run.mode, pods)).collect();
    out.push_str(&format!(
        "| phase | {} |\n|---|{}\n",
        header.iter().map(|label| format!("{label} p50 ms | {label} p99 ms")).collect::<Vec<_>>().join(" | "),
        "---:|---:|".repeat(runs.len())
    ));
    let row = |name: &str, samples: &dyn Fn(&Run) -> Vec<Duration>| {
        let cells: Vec<String> = runs
            .iter()
            .map(|run| {
                let summary = Summary::of(samples(run));
                format!("{} | {}", ms(summary.p50), ms(summary.p99))
            })
            .collect();
        format!("| {name} | {} |\n", cells.join(" | "))
    };
    for (i, (_, name)) in KUBELET_PHASES.iter().enumerate() {
        out.push_str(&row(name, &|run| run.kubelet.iter().map(|pod| pod.phases()[i]).collect()));
    }
    out.push_str(&row("**kubelet pod: create call → Running seen**", &|run| {
        run.kubelet.iter().map(PodTimes::total).collect()
    }));
    type Call = fn(&BaselinePod) -> Duration;
    let baseline: [(&str, Call); 5] = [
        ("Docker direct: pause container create", |pod| pod.create_pause),
        ("Docker direct: pause container start", |pod| pod.start_pause),
        ("Docker direct: app container create", |pod| pod.create_app),
        ("Docker direct: app container start", |pod| pod.start_app),
        ("**Docker direct: all four calls**", BaselinePod::total),
    ];
    for (name, part) in baseline {
        out.push_str(&row(name, &|run| run.baseline.iter().map(part).collect()));
    }
    out
}

/// The kubelet phase with the largest p50 in `run`, and that p50.
pub fn largest(run: &Run) -> (&'static str, Duration) {
    (0..KUBELET_PHASES.len())
        .map(|i| (KUBELET_PHASES[i].0, Summary::of(run.kubelet.iter().map(|pod| pod.phases()[i]).collect()).p50))
        .max_by_key(|(_, p50)| *p50)
        .unwrap_or(("none", Duration::ZERO))
}

fn run_label(mode: Mode, pods: usize) -> String {
    match mode {
        Mode::Sequential => "one at a time".to_string(),
        Mode::AtOnce => format!("{pods} at once"),
    }
}
