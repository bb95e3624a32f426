//! The heartbeat: every period the Ready condition is refreshed (True while
//! the runtime answers, False while it does not), so the node lifecycle
//! controller knows the kubelet is alive.

use super::registration::{register_node, ATTEMPTS};
use super::status::{report_health, Health};
use super::NodeError;
use crate::config::KubeletConfig;
use crate::runtime::ContainerRuntime;
use rk_client::Client;
use rk_proto::v1::Node;
use std::sync::Arc;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use tonic::Code;

/// Heartbeats every `config.heartbeat_period` until the handle is aborted.
/// The first beat is one period after the start (registration has just
/// written a fresh status). A failed beat is logged and the next period tries
/// again; a deleted Node is registered again.
pub fn start_heartbeat(client: Client, config: KubeletConfig, runtime: Arc<dyn ContainerRuntime>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let period = config.heartbeat_period;
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        // The Node as last written: updating it directly saves a read per beat,
        // and a conflict says when someone else wrote since.
        let mut last: Option<Node> = None;
        loop {
            ticks.tick().await;
            if let Err(error) = beat(&client, &config, runtime.as_ref(), &mut last).await {
                tracing::warn!(node = %config.node_name, %error, "node heartbeat failed; retrying next period");
            }
        }
    })
}

async fn beat(
    client: &Client,
    config: &KubeletConfig,
    runtime: &dyn ContainerRuntime,
    last: &mut Option<Node>,
) -> Result<(), NodeError> {
    let name = config.node_name.as_str();
    let health = Health::of(runtime.version().await);
    for _ in 0..ATTEMPTS {
        let mut node = match last.take() {
            Some(node) => node,
            None => match client.get::<Node>("", name).await {
                Ok(node) => node,
                Err(status) if status.code() == Code::NotFound => {
                    return reregister(client, config, runtime, last).await
                }
                Err(status) => return Err(NodeError::api("read", name, status)),
            },
        };
        report_health(node.status.get_or_insert_with(Default::default), &health, &rk_proto::time::now());
        match client.update_status(node).await {
            Ok(written) => {
                *last = Some(written);
                return Ok(());
            }
            // Someone else wrote (or it was replaced): read it afresh.
            Err(status) if status.code() == Code::Aborted => continue,
            Err(status) if status.code() == Code::NotFound => return reregister(client, config, runtime, last).await,
            Err(status) => return Err(NodeError::api("update the status of", name, status)),
        }
    }
    Err(NodeError::Contended { action: "heartbeat", node: name.to_string(), attempts: ATTEMPTS })
}

async fn reregister(
    client: &Client,
    config: &KubeletConfig,
    runtime: &dyn ContainerRuntime,
    last: &mut Option<Node>,
) -> Result<(), NodeError> {
    tracing::warn!(node = %config.node_name, "the Node was deleted; registering it again");
    *last = Some(register_node(client, config, runtime).await?);
    Ok(())
}
