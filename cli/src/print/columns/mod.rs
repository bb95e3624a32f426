//! The `get` columns of each kind, as kubectl 1.20 prints them (its `printers.go`).

mod dataset;
mod endpoints;
mod event;
mod namespace;
mod node;
mod pod;
mod replication_controller;
mod service;

pub(crate) use endpoints::format_endpoints;
pub(crate) use node::node_roles;
pub(crate) use service::service_type;

use chrono::{DateTime, Utc};
use rk_proto::Resource;

/// A kind's table columns (NAME first, except for events); the table printer adds NAMESPACE and LABELS.
pub trait Columns: Resource {
    /// Uppercase headers; `wide` for `-o wide`.
    fn headers(wide: bool) -> Vec<&'static str>;
    /// One cell per header; `now` is the reference for AGE-like columns.
    fn row(&self, wide: bool, now: DateTime<Utc>) -> Vec<String>;
}

/// Headers or cells, plus the extra ones when `wide`.
fn with_wide<T>(mut normal: Vec<T>, wide: bool, extra: impl FnOnce() -> Vec<T>) -> Vec<T> {
    if wide {
        normal.extend(extra());
    }
    normal
}
