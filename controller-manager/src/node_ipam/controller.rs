//! The reconciler: a node without spec.podCIDR gets a free block written to
//! its spec; a node that has one keeps it; a deleted node's block is freed.

use super::allocations::{Allocations, ClaimError};
use super::cidr::Ipv4Cidr;
use async_trait::async_trait;
use rk_client::events::EventType;
use rk_client::{Action, Client, EventRecorder, Reconciler, Store};
use rk_proto::v1::Node;
use rk_proto::Resource;
use std::sync::{Arc, Mutex};
use tonic::Code;

pub struct NodeIpam {
    client: Client,
    recorder: EventRecorder,
    nodes: Arc<Store<Node>>,
    allocations: Mutex<Allocations>,
}

impl NodeIpam {
    pub fn new(client: Client, recorder: EventRecorder, nodes: Arc<Store<Node>>, allocations: Allocations) -> Self {
        NodeIpam { client, recorder, nodes, allocations: Mutex::new(allocations) }
    }

    /// Records the block of every node in the store that has one. Called once
    /// the store is synced and before any allocation, so a restarted
    /// controller never hands out a block that is in use.
    pub fn claim_existing(&self) {
        for node in self.nodes.list() {
            self.claim(&node);
        }
    }

    /// Records the node's podCIDR, if it has one; true if it has.
    fn claim(&self, node: &Node) -> bool {
        let pod_cidr = node.spec.as_ref().map_or("", |spec| spec.pod_cidr.as_str());
        if pod_cidr.is_empty() {
            return false;
        }
        let name = &node.metadata().name;
        let claimed = pod_cidr.parse::<Ipv4Cidr>().map_err(|_| ClaimError::OutsideRange).and_then(|cidr| {
            let mut allocations = self.allocations.lock().unwrap();
            allocations.claim(name, &cidr)
        });
        match claimed {
            Ok(()) => {}
            Err(ClaimError::OutsideRange) => {
                tracing::warn!(node = %name, pod_cidr, "the node's podCIDR is not a block of the cluster CIDR")
            }
            Err(ClaimError::HeldBy(other)) => {
                tracing::warn!(node = %name, pod_cidr, other = %other, "two nodes have the same podCIDR")
            }
        }
        true
    }

    /// Reserves a block for the node and writes it to the node's spec.
    async fn assign(&self, node: &Node) -> Result<(), tonic::Status> {
        let name = &node.metadata().name;
        let (cidr, blocks) = {
            let mut allocations = self.allocations.lock().unwrap();
            (allocations.allocate(name), *allocations.blocks())
        };
        let Some(cidr) = cidr else {
            // The informer's resync brings the node back; a deleted node may have freed a block by then.
            let message = format!(
                "no pod CIDR left for node {name}: all {} /{} blocks of {} are in use",
                blocks.count(),
                blocks.mask(),
                blocks.cluster()
            );
            self.recorder.record(node, EventType::Warning, "CIDRAssignmentFailed", message);
            return Ok(());
        };
        let mut updated = node.clone();
        updated.spec.get_or_insert_with(Default::default).pod_cidr = cidr.to_string();
        match self.client.update(updated).await {
            Ok(_) => {
                tracing::info!(node = %name, %cidr, "assigned pod CIDR");
                Ok(())
            }
            // The store's copy is stale (a heartbeat got in first) or the node
            // is being deleted: the watch brings the newer state, which queues
            // the node again. The block stays reserved for it until then.
            Err(status) if matches!(status.code(), Code::Aborted | Code::NotFound) => Ok(()),
            Err(status) => Err(status),
        }
    }
}

#[async_trait]
impl Reconciler for NodeIpam {
    fn name(&self) -> &'static str {
        "node-ipam"
    }

    async fn reconcile(&self, key: &str) -> Result<Action, Box<dyn std::error::Error + Send + Sync>> {
        match self.nodes.get(key) {
            None => {
                if let Some(cidr) = self.allocations.lock().unwrap().release(key) {
                    tracing::info!(node = key, %cidr, "released pod CIDR");
                }
            }
            Some(node) if !self.claim(&node) => self.assign(&node).await?,
            Some(_) => {}
        }
        Ok(Action::Done)
    }
}
