//! rk-apiserver: typed gRPC services over etcd, with Kubernetes' defaulting,
//! validation, optimistic concurrency and watch semantics.

mod error;
mod grpc;
mod metrics;
pub mod registry;
pub mod server;
pub mod storage;
mod streaming;
mod watch;

pub use error::ApiError;
pub use server::{serve, ServerConfig, ServerError};
pub use streaming::KubeletCredential;
