//! Node failure, timed: a replication controller with pods on both nodes,
//! node2's link cut on the host (`ip link set rk<id>n2 down`), until all its
//! replicas are Running on node1. Afterwards the link comes back, node2 turns
//! Ready and the controller is deleted (not timed).

use crate::cluster::Cluster;
use crate::pods::{self, POLL};
use anyhow::{bail, Context};
use rk_client::Client;
use rk_proto::v1::Node;
use std::time::{Duration, Instant};

const REPLICAS: usize = 4;
const SELECTOR: &str = "app=failover";
const TIMEOUT: Duration = Duration::from_secs(180);

/// One failure: how long until node2 was seen NotReady, and until the pods all ran on node1.
pub struct Failover {
    pub not_ready: Duration,
    pub moved: Duration,
}

pub async fn run(cluster: &Cluster, client: &Client) -> anyhow::Result<Failover> {
    cluster.rkctl(&["create", "-f", "-"], Some(&manifest())).await?;
    let started = Instant::now();
    let before = loop {
        let running = pods::running(client, "default", SELECTOR).await?;
        if running.len() == REPLICAS {
            break running;
        }
        if started.elapsed() > TIMEOUT {
            bail!("{} of {REPLICAS} failover pods Running after {TIMEOUT:?}", running.len());
        }
        tokio::time::sleep(POLL).await;
    };
    if !before.iter().any(|pod| pods::node(pod) == "node2") {
        bail!("no failover pod was scheduled on node2: nothing would move");
    }

    cluster.set_link(2, false)?;
    let cut = Instant::now();
    let measured = watch_failover(client, cut).await;
    cluster.set_link(2, true)?;
    let failover = measured?;

    wait_ready(client, "node2").await?;
    cluster.rkctl(&["delete", "rc", "failover", "--grace-period=1"], None).await?;
    pods::wait_gone(client, "default", SELECTOR, TIMEOUT).await?;
    Ok(failover)
}

async fn watch_failover(client: &Client, cut: Instant) -> anyhow::Result<Failover> {
    let mut not_ready = None;
    loop {
        if not_ready.is_none() && !ready(client, "node2").await? {
            not_ready = Some(cut.elapsed());
        }
        let running = pods::running(client, "default", SELECTOR).await?;
        if running.len() == REPLICAS && running.iter().all(|pod| pods::node(pod) == "node1") {
            let moved = cut.elapsed();
            return Ok(Failover { not_ready: not_ready.unwrap_or(moved), moved });
        }
        if cut.elapsed() > TIMEOUT {
            bail!("the failover pods were not all Running on node1 {TIMEOUT:?} after node2 was cut off");
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn ready(client: &Client, node: &str) -> anyhow::Result<bool> {
    let node = client.get::<Node>("", node).await.with_context(|| format!("getting node {node}"))?;
    let conditions = node.status.map(|status| status.conditions).unwrap_or_default();
    Ok(conditions.iter().any(|c| c.r#type == "Ready" && c.status == "True"))
}

pub async fn wait_ready(client: &Client, node: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    while !ready(client, node).await? {
        if started.elapsed() > TIMEOUT {
            bail!("{node} not Ready again {TIMEOUT:?} after its link came back");
        }
        tokio::time::sleep(POLL).await;
    }
    Ok(())
}

/// An RC of rk/hello pods, spread over both nodes by the scheduler.
fn manifest() -> String {
    format!(
        "apiVersion: v1\nkind: ReplicationController\nmetadata:\n  name: failover\nspec:\n  replicas: {REPLICAS}\n  \
         selector: {{app: failover}}\n  template:\n    metadata:\n      labels: {{app: failover}}\n    spec:\n      \
         terminationGracePeriodSeconds: 1\n      containers:\n      - name: hello\n        image: rk/hello:1.0\n        \
         ports:\n        - {{containerPort: 8080}}\n"
    )
}
