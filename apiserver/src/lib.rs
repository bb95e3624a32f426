//! rk-apiserver: typed gRPC services over etcd, with Kubernetes' defaulting,
//! validation, optimistic concurrency and watch semantics.

pub mod registry;
pub mod storage;
