//! rk-kubelet: the node agent. It registers its Node, watches the pods bound
//! to it, runs them as Docker containers (a pause container owning the pod's
//! namespaces plus one container per spec container), keeps them running,
//! probes them, and reports their state through UpdateStatus.

pub mod backoff;
pub mod cleanup;
pub mod config;
pub mod datasets;
pub mod env;
pub mod hollow;
pub mod images;
pub mod kubelet;
pub mod node;
pub mod pleg;
pub mod pods;
pub mod probes;
pub mod routes;
pub mod runtime;
pub mod streaming;
