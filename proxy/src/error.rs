//! What can go wrong programming the node.

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("running {command}: {source}")]
    Spawn { command: String, source: std::io::Error },
    #[error("{command} failed ({status}): {stderr}")]
    Command { command: String, status: String, stderr: String },
    #[error("invalid {flag} {value:?}: {reason}")]
    BadFlag { flag: &'static str, value: String, reason: String },
}
