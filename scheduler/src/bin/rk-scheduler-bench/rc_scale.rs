//! One replication controller scaled from 0 to N replicas, with the
//! controller manager's replication controller and the scheduler running:
//! how long until every pod exists, and until every pod is bound.

use crate::bindings::Bindings;
use crate::cluster::Cluster;
use crate::cpu::{self, CpuTimes};
use crate::{ceiling, create, workload, CONNECTIONS};
use anyhow::Context;
use rk_client::Client;
use rk_proto::v1::{ObjectMeta, PodSpec, PodTemplateSpec, ReplicationController, ReplicationControllerSpec};
use rk_scheduler::Options;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

const NAME: &str = "rc-scale";
/// Every wait gives up after this long.
const PATIENCE: Duration = Duration::from_secs(600);

/// One measured scale-up.
pub struct RcScale {
    pub nodes: usize,
    pub replicas: usize,
    /// Scale sent → the watch saw every pod.
    pub created: Duration,
    /// Scale sent → the watch saw every pod bound.
    pub bound: Duration,
    pub cpu: CpuTimes,
}

/// Registers `nodes` nodes, creates the controller with no replicas, then
/// scales it to `replicas` and waits for its pods to exist and be bound.
pub async fn measure(nodes: usize, replicas: usize, concurrency: usize) -> anyhow::Result<RcScale> {
    let cluster = Cluster::start().await?;
    let etcd_pid = cpu::etcd_pid()?;
    let clients = Arc::new(cluster.clients(CONNECTIONS).await?);
    create(&clients, nodes, concurrency, workload::node).await.context("creating nodes")?;
    let bindings = Bindings::watch(&clients[0]).await;
    let _scheduler = cluster.start_scheduler(Options::default()).await?;
    // A first pod bound shows the scheduler's caches are synced (it has no
    // labels, so the controller leaves it alone).
    clients[0].create(rk_scheduler::testing::pod("warm-up", &[], &[])).await?;
    bindings.wait_for(1, Duration::from_secs(60)).await?;
    let _controllers = cluster.start_replication_controller().await?;
    let client = &clients[0];
    client.create(controller(0)).await.context("creating the replication controller")?;
    wait_observed(client).await?;

    let cpu_before = CpuTimes::sample(etcd_pid)?;
    let sent = Instant::now();
    let mut rc: ReplicationController = client.get("default", NAME).await?;
    rc.spec.get_or_insert_with(Default::default).replicas = Some(replicas as i32);
    client.update(rc).await.context("scaling the replication controller")?;
    let created = bindings.wait_for_pods(replicas + 1, PATIENCE).await?;
    bindings.wait_for(replicas + 1, PATIENCE).await?;
    let cpu = CpuTimes::sample(etcd_pid)? - cpu_before;
    let bound = bindings.last_bound().context("no pod bound")?;
    Ok(RcScale { nodes, replicas, created: created - sent, bound: bound - sent, cpu })
}

/// `default/rc-scale` with `replicas` pods of 100m cpu and 128 MiB, no node selector.
fn controller(replicas: i32) -> ReplicationController {
    let labels = BTreeMap::from([("app".to_string(), NAME.to_string())]);
    let container = rk_scheduler::testing::container(&[("cpu", "100m"), ("memory", "128Mi")], &[]);
    ReplicationController {
        metadata: Some(ObjectMeta { name: NAME.into(), namespace: "default".into(), ..Default::default() }),
        spec: Some(ReplicationControllerSpec {
            replicas: Some(replicas),
            selector: labels.clone(),
            template: Some(PodTemplateSpec {
                metadata: Some(ObjectMeta { labels, ..Default::default() }),
                spec: Some(PodSpec { containers: vec![container], ..Default::default() }),
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Waits until the controller reported status for the controller's current
/// generation: from then on it is synced and acts on the scale at once.
async fn wait_observed(client: &Client) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let rc: ReplicationController = client.get("default", NAME).await?;
        let observed = rc.status.as_ref().map_or(0, |status| status.observed_generation);
        if observed >= rc.metadata.as_ref().map_or(0, |meta| meta.generation) && observed > 0 {
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < deadline, "the replication controller never reported status for {NAME}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The results as a markdown table.
pub fn table(run: &RcScale) -> String {
    let per_pod = |cpu: Duration| cpu.as_secs_f64() * 1e6 / run.replicas as f64;
    let cpu = run.cpu;
    let total = cpu.apiserver + cpu.scheduler + cpu.controller_manager + cpu.etcd + cpu.bench;
    let mut out = String::from(
        "| nodes | replicas | scale → all exist s | scale → all bound s | pods/s until all bound | \
         CPU µs/pod: apiserver | scheduler | controller manager | etcd | bench | total |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let _ = writeln!(
        out,
        "| {} | {} | {:.2} | {:.2} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} |",
        run.nodes,
        run.replicas,
        run.created.as_secs_f64(),
        run.bound.as_secs_f64(),
        ceiling::per_second(run.replicas, run.bound),
        per_pod(cpu.apiserver),
        per_pod(cpu.scheduler),
        per_pod(cpu.controller_manager),
        per_pod(cpu.etcd),
        per_pod(cpu.bench),
        per_pod(total),
    );
    out
}
