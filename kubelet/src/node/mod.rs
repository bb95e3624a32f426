//! The kubelet's Node: what the host offers and who it is, registration, the
//! pod CIDR the node IPAM controller assigns, and the heartbeat that keeps
//! the Ready condition fresh for the node lifecycle controller.

pub mod addresses;
pub mod capacity;
mod heartbeat;
mod registration;
pub mod status;
pub mod system_info;

pub use heartbeat::start_heartbeat;
pub use registration::{node_labels, register_node, wait_for_pod_cidr};

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("cannot read {what} of this host: {reason}")]
    Host { what: String, reason: String },
    #[error("node IP {0:?} is not an IP address (expected one such as 192.168.50.11 or fd00::11)")]
    InvalidNodeIp(String),
    #[error("cannot {action} node {node}: {code:?}: {message}")]
    Api { action: &'static str, node: String, code: tonic::Code, message: String },
    #[error("cannot {action} node {node}: it kept changing under us ({attempts} conflicting writes in a row)")]
    Contended { action: &'static str, node: String, attempts: usize },
}

impl NodeError {
    fn host(what: &str, reason: impl std::fmt::Display) -> NodeError {
        NodeError::Host { what: what.to_string(), reason: reason.to_string() }
    }

    fn api(action: &'static str, node: &str, status: tonic::Status) -> NodeError {
        NodeError::Api { action, node: node.to_string(), code: status.code(), message: status.message().to_string() }
    }
}
