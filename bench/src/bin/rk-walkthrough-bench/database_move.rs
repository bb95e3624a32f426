//! Walkthrough 1's database move, timed: the Redis master's replication
//! controller switched from `disktype: spinning` to `ssd` through
//! `rkctl get -o yaml` / `rkctl update -f -`, then its pod deleted with
//! `-l`; from the delete until a POST through the frontend's NodePort lands
//! in the new (empty) Redis on the ssd node.

use crate::cluster::Cluster;
use crate::pods::POLL;
use crate::probe;
use crate::walkthrough::{Answer, GUESTBOOK};
use anyhow::{bail, ensure};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(180);

/// Moves the guestbook's Redis (the guestbook running); the time from the delete to the first entry in the new one.
pub async fn run(cluster: &Cluster) -> anyhow::Result<Duration> {
    let Answer::NodePort { port, .. } = GUESTBOOK.answer else { bail!("the guestbook answers on a NodePort") };
    let frontend = format!("{}:{port}", cluster.node_address(1));
    add_entry_before(&frontend).await?;

    let yaml = cluster.rkctl(&["get", "rc", "redis-master", "-o", "yaml"], None).await?;
    ensure!(yaml.contains("disktype: spinning"), "redis-master does not select disktype: spinning:\n{yaml}");
    cluster.rkctl(&["update", "-f", "-"], Some(&yaml.replace("disktype: spinning", "disktype: ssd"))).await?;

    let started = Instant::now();
    cluster.rkctl(&["delete", "pods", "-l", "app=redis,role=master"], None).await?;
    loop {
        // The old Redis holds an entry already: "added entry 1" comes from the new one only.
        if let Ok((201, body)) = probe::request(&frontend, "POST", "/entries", "entry=after-the-move").await {
            if body.trim_end().ends_with("added entry 1") {
                return Ok(started.elapsed());
            }
        }
        if started.elapsed() > TIMEOUT {
            bail!("the frontend did not reach the moved Redis within {TIMEOUT:?}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// An entry in the Redis on the spinning node, so that its answers tell it from the new one.
async fn add_entry_before(frontend: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let answer = probe::request(frontend, "POST", "/entries", "entry=before-the-move").await;
        match answer {
            Ok((201, _)) => return Ok(()),
            _ if started.elapsed() < Duration::from_secs(10) => tokio::time::sleep(POLL).await,
            Ok((status, body)) => bail!("POST /entries before the move: {status} {body}"),
            Err(error) => return Err(error.context("POST /entries before the move")),
        }
    }
}
