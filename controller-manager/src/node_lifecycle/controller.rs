//! The reconciler: reads a node from the store, reports Ready transitions,
//! and acts on the [`verdict`](super::verdict::verdict) for this instant:
//! marks a silent node Unknown, marks the pods of a node that is not ready
//! not ready, evicts them when it has been not ready too long, or asks to be
//! called again when the next deadline passes.

use super::conditions::{is_ready, mark_unknown};
use super::eviction::evict_pods;
use super::pods_not_ready::mark_pods_not_ready;
use super::readiness::Readiness;
use super::verdict::{verdict, Timeouts, Verdict};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rk_client::clock::Clock;
use rk_client::events::EventType;
use rk_client::{Action, Client, EventRecorder, Reconciler, Store};
use rk_proto::v1::Node;
use std::sync::Arc;
use tonic::Code;

pub struct NodeLifecycle {
    pub client: Client,
    pub recorder: EventRecorder,
    pub nodes: Arc<Store<Node>>,
    pub clock: Arc<dyn Clock>,
    pub timeouts: Timeouts,
    pub readiness: Readiness,
}

impl NodeLifecycle {
    async fn mark_unknown(&self, node: &Node, now: DateTime<Utc>) -> Result<(), tonic::Status> {
        let mut updated = node.clone();
        mark_unknown(updated.status.get_or_insert_with(Default::default), &rk_proto::time::format(now));
        match self.client.update_status(updated).await {
            // The watch brings the write back, and with it the NodeNotReady event.
            Ok(_) => Ok(()),
            // The kubelet posted in between (or the node went): the watch brings
            // that version, which queues the node again.
            Err(status) if matches!(status.code(), Code::Aborted | Code::NotFound) => Ok(()),
            Err(status) => Err(status),
        }
    }
}

#[async_trait]
impl Reconciler for NodeLifecycle {
    fn name(&self) -> &'static str {
        "node-lifecycle"
    }

    async fn reconcile(&self, key: &str) -> Result<Action, Box<dyn std::error::Error + Send + Sync>> {
        let Some(node) = self.nodes.get(key) else {
            self.readiness.forget(key);
            return Ok(Action::Done);
        };
        if let Some(transition) = self.readiness.observe(key, is_ready(&node)) {
            let message = format!("Node {key} status is now: {}", transition.reason());
            self.recorder.record(&*node, EventType::Normal, transition.reason(), message);
        }
        let now = self.clock.now();
        if !is_ready(&node) {
            let marked = mark_pods_not_ready(&self.client, &self.recorder, &node, &rk_proto::time::format(now)).await?;
            if marked > 0 {
                tracing::info!(node = key, marked, "marked the pods of a node that is not ready not ready");
            }
        }
        match verdict(&node, now, &self.timeouts) {
            Verdict::RecheckIn(delay) => return Ok(Action::RequeueAfter(delay)),
            Verdict::MarkUnknown => self.mark_unknown(&node, now).await?,
            Verdict::Evict => {
                let evicted = evict_pods(&self.client, &self.recorder, &node).await?;
                if evicted > 0 {
                    tracing::info!(node = key, evicted, "evicted the pods of a node not ready too long");
                }
            }
        }
        // Acting changed the node or its pods; the informer's resync looks again.
        Ok(Action::Done)
    }
}
