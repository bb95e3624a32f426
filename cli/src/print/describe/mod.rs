//! `rkctl describe`: kubectl-like key/value blocks with aligned values, sections for
//! containers, conditions and the like, and the object's events at the end.

mod containers;
mod dataset;
mod endpoints;
mod events;
mod namespace;
mod node;
mod pod;
mod replication_controller;
mod service;
mod writer;

pub(crate) use dataset::uses_dataset;

use chrono::{DateTime, Utc};
use rk_proto::v1::{Endpoints, Event, Pod};

/// What describe shows beyond the object itself; the caller fetches it.
#[derive(Debug, Clone, Copy)]
pub struct DescribeContext<'a> {
    /// The reference for ages.
    pub now: DateTime<Utc>,
    /// Events about the object. `None` leaves the Events section out (kubectl's
    /// `--show-events=false`); namespaces never show one, as in kubectl.
    pub events: Option<&'a [Event]>,
    /// For a ReplicationController: the pods its selector matches (counted in `Pods Status`
    /// when it controls them). For a Node: the pods bound to it (listed with their requests).
    /// For a Dataset: the pods whose volumes use it.
    pub pods: &'a [Pod],
    /// For a Service: its Endpoints object, if there is one.
    pub endpoints: Option<&'a Endpoints>,
}

/// For tests: no events section, no pods, no endpoints.
#[cfg(test)]
fn bare_context(now: DateTime<Utc>) -> DescribeContext<'static> {
    DescribeContext { now, events: None, pods: &[], endpoints: None }
}

/// A kind that `describe` can show.
pub trait Describe {
    fn describe(&self, ctx: &DescribeContext<'_>) -> String;
}
