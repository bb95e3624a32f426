//! A walkthrough's creation, timed: `rkctl create` of its manifests until
//! all its pods are Running and its Service answers; and its deletion
//! between runs (not timed).

use crate::cluster::Cluster;
use crate::pods::{self, POLL};
use crate::walkthrough::Walkthrough;
use anyhow::bail;
use rk_client::Client;
use std::time::{Duration, Instant};

const READY_TIMEOUT: Duration = Duration::from_secs(180);
const GONE_TIMEOUT: Duration = Duration::from_secs(120);

/// Creates `walkthrough` from `manifests` (which make `pods` pods); the time
/// until its pods all run and its Service answers.
pub async fn create(
    cluster: &Cluster,
    client: &Client,
    walkthrough: &Walkthrough,
    manifests: &str,
    pods: usize,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    cluster.rkctl(&["create", "-f", "-"], Some(manifests)).await?;
    loop {
        let running = pods::running(client, walkthrough.namespace, "").await?.len();
        if running == pods && walkthrough.answers(cluster, client).await {
            return Ok(started.elapsed());
        }
        if started.elapsed() > READY_TIMEOUT {
            bail!(
                "{}: {running} of {pods} pods Running, Service answering: no, after {READY_TIMEOUT:?}",
                walkthrough.name
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Deletes what `manifests` made and waits until its pods (and namespace) are gone.
pub async fn delete(
    cluster: &Cluster,
    client: &Client,
    walkthrough: &Walkthrough,
    manifests: &str,
) -> anyhow::Result<()> {
    // Objects already gone with their namespace make rkctl fail; what is left is checked below.
    let _ = cluster.rkctl(&["delete", "-f", "-", "--grace-period=1"], Some(manifests)).await;
    pods::wait_gone(client, walkthrough.namespace, "", GONE_TIMEOUT).await
}
