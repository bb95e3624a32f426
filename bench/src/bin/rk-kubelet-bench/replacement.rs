//! Part 2, replacement: a replication controller's pod deleted (gracefully)
//! → its replacement seen Running, one deletion at a time.

use crate::node::NodeBench;
use crate::objects::{self, NAMESPACE};
use crate::pod_watch::Pods;
use anyhow::Context;
use rk_bench::progress;
use rk_bench::sections::{Goal, Section};
use rk_bench::stats::{ms, Summary};
use rk_proto::v1::{DeleteRequest, Pod, ReplicationController};
use std::collections::HashSet;
use std::time::{Duration, Instant};

const RC: &str = "bench-rc";
const TIMEOUT: Duration = Duration::from_secs(120);

pub async fn run(bench: &NodeBench, replicas: usize, deletions: usize) -> anyhow::Result<Section> {
    let rc = objects::replication_controller(RC, replicas as i32, &objects::SLEEP_UNTIL_TERM);
    bench.client.create(rc).await.context("creating the replication controller")?;
    let spinner = progress::spinner(&format!("{replicas} replicas starting"));
    bench.watch.wait_for(&format!("{replicas} replicas Running"), TIMEOUT, |pods| steady(pods, replicas)).await?;
    spinner.finish_and_clear();

    let bar = progress::bar(deletions, "RC pods deleted, replaced");
    let (mut created, mut bound, mut running, mut gone) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..deletions {
        let before = bench.watch.snapshot();
        let (victim_uid, victim) = before
            .iter()
            .filter(|(_, seen)| seen.live() && seen.name.starts_with(RC))
            .map(|(uid, seen)| (uid.clone(), seen.name.clone()))
            .min_by(|a, b| a.1.cmp(&b.1))
            .context("no Running replica to delete")?;
        let known: HashSet<String> = before.into_keys().collect();
        let deleted_at = Instant::now();
        let request = DeleteRequest { namespace: NAMESPACE.into(), name: victim.clone(), ..Default::default() };
        bench.client.delete::<Pod>(request).await.with_context(|| format!("deleting pod {victim}"))?;
        let replacement = bench
            .watch
            .wait_for(&format!("a replacement of {victim} Running"), TIMEOUT, |pods| {
                pods.iter().find(|(uid, seen)| !known.contains(*uid) && seen.running.is_some()).map(|(_, s)| s.clone())
            })
            .await?;
        created.push(replacement.added.saturating_duration_since(deleted_at));
        bound.push(replacement.bound.unwrap_or(replacement.added).saturating_duration_since(deleted_at));
        running.push(replacement.running.expect("found Running").saturating_duration_since(deleted_at));
        // The next deletion starts from a steady state: the old pod gone, every replica Running.
        let old_gone = bench
            .watch
            .wait_for(&format!("{victim} gone"), TIMEOUT, |pods| pods.get(&victim_uid).and_then(|seen| seen.deleted))
            .await?;
        gone.push(old_gone.saturating_duration_since(deleted_at));
        bench.watch.wait_for("every replica Running", TIMEOUT, |pods| steady(pods, replicas)).await?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    remove(bench).await?;

    let replaced = Summary::of(running.clone());
    let row = |name: &str, samples: Vec<Duration>| {
        let summary = Summary::of(samples);
        format!("| {name} | {} | {} | {} |\n", ms(summary.p50), ms(summary.p99), ms(summary.max))
    };
    let markdown = format!(
        "### Replacement\n\n\
         A replication controller of {replicas} pods (the pod-start container, whose shell exits on SIGTERM); \
         {deletions} times, one of its pods is deleted (graceful, the default 30 s grace period) and the time \
         to its replacement is taken from the delete call, by the bench's watch. Each deletion waits for the \
         old pod to be gone and every replica Running again before the next.\n\n\
         | from the delete call to | p50 ms | p99 ms | max ms |\n|---|---:|---:|---:|\n{}{}{}{}",
        row("replacement created (controller manager)", created),
        row("replacement bound (scheduler)", bound),
        row("**replacement Running (kubelet)**", running),
        row("old pod gone (kubelet: SIGTERM, container exit, removal)", gone),
    );
    let goal = Goal {
        name: "RC pod deleted → replacement Running p99",
        target: "well under 5 s",
        actual: format!("{} ms", ms(replaced.p99)),
        met: replaced.p99 < Duration::from_secs(5),
    };
    Ok(Section { markdown, goals: vec![goal] })
}

/// `Some` when exactly `replicas` pods of the controller are Running and none is going.
fn steady(pods: &Pods, replicas: usize) -> Option<()> {
    let present: Vec<_> = pods.values().filter(|seen| seen.name.starts_with(RC) && seen.deleted.is_none()).collect();
    (present.len() == replicas && present.iter().all(|seen| seen.live())).then_some(())
}

/// Deletes the controller, waits until it is gone, then clears its pods.
async fn remove(bench: &NodeBench) -> anyhow::Result<()> {
    let request = DeleteRequest { namespace: NAMESPACE.into(), name: RC.into(), ..Default::default() };
    bench.client.delete::<ReplicationController>(request).await.context("deleting the replication controller")?;
    let deadline = Instant::now() + TIMEOUT;
    while bench.client.get::<ReplicationController>(NAMESPACE, RC).await.is_ok() {
        anyhow::ensure!(Instant::now() < deadline, "replication controller {RC} not gone after {TIMEOUT:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bench.clear().await
}
