//! Part 1, pod start: pod created → seen Running by a watch, for a
//! one-container pod, one at a time and all at once; beside the same Docker
//! calls made directly (the baseline), and with the kubelet's time split into
//! phases by what Docker recorded of its containers.

use crate::docker::BaselinePod;
use crate::node::NodeBench;
use crate::objects;
use crate::phases::{self, PodTimes};
use anyhow::Context;
use futures::future::try_join_all;
use rk_bench::progress;
use rk_bench::sections::{Goal, Section};
use rk_bench::stats::{ms, Summary};
use std::time::{Duration, Instant};

/// Kubernetes' pod startup objective (p99, images present).
const SLO: Duration = Duration::from_secs(5);
const GOAL_RATIO: f64 = 1.2;
const RUNNING_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Clone, Copy, PartialEq)]
pub enum Mode {
    Sequential,
    AtOnce,
}

impl Mode {
    fn label(self, pods: usize) -> String {
        match self {
            Mode::Sequential => format!("{pods} one at a time"),
            Mode::AtOnce => format!("{pods} at once"),
        }
    }
}

/// One mode's measurements: the kubelet's pods and the baseline's.
pub struct Run {
    pub mode: Mode,
    pub kubelet: Vec<PodTimes>,
    pub baseline: Vec<BaselinePod>,
}

pub async fn run(bench: &NodeBench, pods: usize) -> anyhow::Result<Section> {
    // First uses (image lookups, connections, the informers' first events) are not what is measured.
    start_kubelet_pods(bench, "warm-up", 1, Mode::Sequential).await?;
    start_baseline_pods(bench, "warm-up", 1, Mode::Sequential).await?;
    bench.clear().await?;
    let mut runs = Vec::new();
    for (mode, prefix) in [(Mode::Sequential, "seq"), (Mode::AtOnce, "once")] {
        let baseline = start_baseline_pods(bench, prefix, pods, mode).await?;
        bench.docker.remove_baseline().await?;
        let kubelet = start_kubelet_pods(bench, prefix, pods, mode).await?;
        bench.clear().await?;
        runs.push(Run { mode, kubelet, baseline });
    }
    Ok(section(&runs, pods))
}

/// Creates `count` pods (one at a time, or all at once) and returns their
/// times, from create call to Running seen.
pub async fn start_kubelet_pods(
    bench: &NodeBench,
    prefix: &str,
    count: usize,
    mode: Mode,
) -> anyhow::Result<Vec<PodTimes>> {
    let bar = progress::bar(count, &format!("kubelet pods, {}", mode.label(count)));
    let create = |i: usize| async move {
        let name = format!("{prefix}-{i}");
        let created_at = Instant::now();
        let pod = bench.client.create(objects::pod(&name)).await.with_context(|| format!("creating pod {name}"))?;
        anyhow::Ok((name, pod.metadata.map(|m| m.uid).unwrap_or_default(), created_at))
    };
    let created = match mode {
        Mode::Sequential => {
            let mut created = Vec::with_capacity(count);
            for i in 0..count {
                created.push(create(i).await?);
                bench.watch.running(&created[i].0, RUNNING_TIMEOUT).await?;
                bar.inc(1);
            }
            created
        }
        Mode::AtOnce => {
            let created = try_join_all((0..count).map(create)).await?;
            let names: Vec<&str> = created.iter().map(|(name, ..)| name.as_str()).collect();
            bench
                .watch
                .wait_for(&format!("{count} pods Running"), RUNNING_TIMEOUT, |seen| {
                    let running =
                        seen.values().filter(|s| s.running.is_some() && names.contains(&s.name.as_str())).count();
                    bar.set_position(running as u64);
                    (running == count).then_some(())
                })
                .await?;
            created
        }
    };
    bar.finish_and_clear();
    let seen = bench.watch.snapshot();
    let mut times = Vec::with_capacity(count);
    for (name, uid, created_at) in created {
        let watched = seen.get(&uid).with_context(|| format!("the watch never saw pod {name}"))?;
        let docker = bench.docker.pod_containers(&uid).await?;
        times.push(PodTimes::new(created_at, watched, docker)?);
    }
    Ok(times)
}

async fn start_baseline_pods(
    bench: &NodeBench,
    prefix: &str,
    count: usize,
    mode: Mode,
) -> anyhow::Result<Vec<BaselinePod>> {
    let bar = progress::bar(count, &format!("Docker baseline, {}", mode.label(count)));
    let one = |i: usize| {
        let bar = bar.clone();
        async move {
            let pod = bench.docker.baseline_pod(&format!("{prefix}-{i}")).await?;
            bar.inc(1);
            anyhow::Ok(pod)
        }
    };
    let pods = match mode {
        Mode::Sequential => {
            let mut pods = Vec::with_capacity(count);
            for i in 0..count {
                pods.push(one(i).await?);
            }
            pods
        }
        Mode::AtOnce => try_join_all((0..count).map(one)).await?,
    };
    bar.finish_and_clear();
    Ok(pods)
}

fn section(runs: &[Run], pods: usize) -> Section {
    let mut table = String::from(
        "| pods | kubelet p50 ms | kubelet p99 ms | kubelet max ms | Docker direct p50 ms | Docker direct p99 ms | \
         p50 / Docker |\n|---|---:|---:|---:|---:|---:|---:|\n",
    );
    let mut goals = Vec::new();
    let mut findings = String::new();
    for run in runs {
        let kubelet = Summary::of(run.kubelet.iter().map(PodTimes::total).collect());
        let baseline = Summary::of(run.baseline.iter().map(BaselinePod::total).collect());
        let ratio = kubelet.p50.as_secs_f64() / baseline.p50.as_secs_f64().max(f64::EPSILON);
        table.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {ratio:.2} |\n",
            run.mode.label(pods),
            ms(kubelet.p50),
            ms(kubelet.p99),
            ms(kubelet.max),
            ms(baseline.p50),
            ms(baseline.p99)
        ));
        let (ratio_goal, slo_goal) = match run.mode {
            Mode::Sequential => ("pod start p50 / Docker direct, one at a time", "pod start p99, one at a time"),
            Mode::AtOnce => ("pod start p50 / Docker direct, all at once", "pod start p99, all at once"),
        };
        goals.push(Goal {
            name: ratio_goal,
            target: "≤ 1.2",
            actual: format!("{ratio:.2} ({} vs {} ms)", ms(kubelet.p50), ms(baseline.p50)),
            met: ratio <= GOAL_RATIO,
        });
        findings.push_str(&finding(run, pods, kubelet, baseline));
        goals.push(Goal {
            name: slo_goal,
            target: "well under 5 s",
            actual: format!("{} ms", ms(kubelet.p99)),
            met: kubelet.p99 < SLO,
        });
    }
    let markdown = format!(
        "### Pod start\n\n\
         A pod of one container (`{}` running `sleep 3600`, imagePullPolicy IfNotPresent, the image present), \
         from the create call to the pod seen Running by a watch on the apiserver: scheduling, the kubelet's \
         work and Docker's. {pods} pods one at a time (each created once the previous one runs), then {pods} \
         created at once. Docker direct (the baseline, measured in the same run on the same dockerd): the calls \
         the kubelet makes for such a pod, made straight through bollard: create + start a pause container on \
         the node's bridge network, then create + start the app container joined to its network and IPC. \
         One pod of each is started first and not counted.\n\n{table}\n{findings}\n{}",
        objects::IMAGE,
        phases::table(runs, pods)
    );
    Section { markdown, goals }
}

/// What this run shows, in words: the kubelet against Docker direct, its
/// largest phase, and whether Docker alone would meet the p99 objective.
fn finding(run: &Run, pods: usize, kubelet: Summary, baseline: Summary) -> String {
    let (phase, phase_p50) = phases::largest(run);
    let overhead = kubelet.p50.as_secs_f64() * 1e3 - baseline.p50.as_secs_f64() * 1e3;
    let mut text = format!(
        "- {}: the kubelet's p50 is {overhead:+.0} ms from Docker direct's; its largest phase at p50 is {phase} \
         ({} ms).",
        run.mode.label(pods),
        ms(phase_p50)
    );
    if kubelet.p99 >= SLO {
        let pause_start = Summary::of(run.baseline.iter().map(|pod| pod.start_pause).collect());
        text.push_str(&if baseline.p99 >= SLO {
            format!(
                " **The 5 s p99 objective is missed** ({} ms), and so it is by the same Docker calls made directly \
                 (p99 {} ms; the pause container's start alone p50 {} ms): on this machine Docker's own container \
                 starts set the floor. Docker direct finished {pods} pods at {:.1} pods/s ({pods} / its slowest \
                 pod's time); a p99 under 5 s for {pods} at once needs {:.0}/s.",
                ms(kubelet.p99),
                ms(baseline.p99),
                ms(pause_start.p50),
                pods as f64 / baseline.max.as_secs_f64(),
                pods as f64 / SLO.as_secs_f64()
            )
        } else {
            format!(
                " **The 5 s p99 objective is missed** ({} ms), while the same Docker calls made directly meet it \
                 (p99 {} ms): the kubelet's own phases are the cause.",
                ms(kubelet.p99),
                ms(baseline.p99)
            )
        });
    }
    text + "\n"
}
