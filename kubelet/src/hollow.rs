//! Hollow nodes: many kubelets in one process for scale tests of the control
//! plane (Kubernetes' kubemark). Each is a whole kubelet (registration,
//! heartbeat, pod sync, probes, status) on its own FakeRuntime, so its pods go
//! Running without containers; all share one connection to the apiserver.

use crate::config::KubeletConfig;
use crate::kubelet::{Kubelet, KubeletError};
use crate::runtime::fake::FakeRuntime;
use futures::StreamExt;
use rk_client::Client;
use std::future::Future;
use std::sync::Arc;

/// Kubelets starting at once: each registers its Node and lists its pods,
/// Services and Node, so a thousand at once would be a burst at the apiserver.
const CONCURRENT_STARTS: usize = 64;

/// The `index`-th hollow node's settings: `base` under the name `<base name>-<index>`.
pub fn hollow_config(base: &KubeletConfig, index: usize) -> KubeletConfig {
    KubeletConfig { node_name: format!("{}-{index}", base.node_name), ..base.clone() }
}

/// Runs `count` hollow kubelets until `shutdown` resolves, then stops them
/// (their fake pods vanish with the process). Fails, stopping the others,
/// when one of them cannot start.
pub async fn run_hollow_nodes(
    count: usize,
    base_config: KubeletConfig,
    client: Client,
    shutdown: impl Future<Output = ()>,
) -> Result<(), KubeletError> {
    let mut starting = futures::stream::iter(0..count)
        .map(|index| Kubelet::start(hollow_config(&base_config, index), Arc::new(FakeRuntime::new()), client.clone()))
        .buffer_unordered(CONCURRENT_STARTS);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut kubelets = Vec::with_capacity(count);
    let outcome = loop {
        tokio::select! {
            () = &mut shutdown => break Ok(()),
            started = starting.next() => match started {
                Some(Ok(kubelet)) => kubelets.push(kubelet),
                Some(Err(error)) => break Err(error),
                None => {
                    tracing::info!(count, "hollow nodes running");
                    shutdown.await;
                    break Ok(());
                }
            },
        }
    };
    for kubelet in kubelets {
        kubelet.stop();
    }
    outcome
}
