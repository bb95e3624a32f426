//! The cluster's pods as the bench polls them: which are Running (and not
//! being deleted), and waiting until a walkthrough's are all gone.

use anyhow::bail;
use rk_client::Client;
use rk_proto::v1::{ListOptions, Namespace, Pod};
use std::time::{Duration, Instant};

/// How often the bench polls the apiserver and the Services.
pub const POLL: Duration = Duration::from_millis(100);

/// The pods in `namespace` matching `selector` that are Running and not being deleted.
pub async fn running(client: &Client, namespace: &str, selector: &str) -> anyhow::Result<Vec<Pod>> {
    let options = ListOptions { namespace: namespace.into(), label_selector: selector.into(), ..Default::default() };
    let pods = client.list::<Pod>(options).await?.items;
    Ok(pods
        .into_iter()
        .filter(|pod| pod.metadata.as_ref().is_some_and(|m| m.deletion_timestamp.is_empty()))
        .filter(|pod| pod.status.as_ref().is_some_and(|s| s.phase == "Running"))
        .collect())
}

/// The node a pod is bound to.
pub fn node(pod: &Pod) -> &str {
    pod.spec.as_ref().map_or("", |spec| spec.node_name.as_str())
}

/// Waits until `namespace` holds no pods matching `selector` (and, unless it
/// is `default`, until the namespace itself is gone).
pub async fn wait_gone(client: &Client, namespace: &str, selector: &str, timeout: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let options =
            ListOptions { namespace: namespace.into(), label_selector: selector.into(), ..Default::default() };
        let left = client.list::<Pod>(options).await?.items.len();
        let namespace_left = namespace != "default" && client.get::<Namespace>("", namespace).await.is_ok();
        if left == 0 && !namespace_left {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{left} pods of {namespace} still there after {timeout:?} (namespace left: {namespace_left})");
        }
        tokio::time::sleep(POLL * 2).await;
    }
}
