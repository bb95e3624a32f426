//! rk-scheduler: binds pods to nodes that fit them.
//!
//! - [`plugins`]: the filters (node ready, node selector, host ports,
//!   resources) and scores (least allocated, spreading) as pure functions,
//!   with [`plugins::fits`] for the kubelet's admission check.
//! - [`cache::Cache`]: nodes and the pods on them, plus pods assumed on a
//!   node between the decision and the watch confirming the bind.
//! - [`queue::SchedulingQueue`]: pods waiting for a node, with back-off for
//!   pods that fit nowhere.
//! - [`Scheduler`]: informers, the scheduling loop and concurrent binds.

pub mod algorithm;
mod binder;
pub mod cache;
mod error;
pub mod fit_error;
mod handlers;
pub mod metrics;
pub mod node_info;
pub mod options;
pub mod plugins;
pub mod pod_usage;
pub mod queue;
pub mod report;
pub mod resources;
mod scheduler;
mod service_index;
pub mod spread_key;
pub mod testing;

pub use error::SchedulerError;
pub use metrics::Metrics;
pub use options::{LeaderElection, Options};
pub use scheduler::{Scheduler, COMPONENT};
