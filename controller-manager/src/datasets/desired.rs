//! Where a dataset should be: `spec.primary` if set, else the node of its
//! oldest user (a bound pod that is neither deleted nor finished), else
//! where it is now.

use super::users::node_of;
use rk_proto::v1::{Dataset, Pod};
use std::sync::Arc;

pub fn desired_node(dataset: &Dataset, users: &[Arc<Pod>]) -> String {
    let primary = dataset.spec.as_ref().map(|s| s.primary.as_str()).unwrap_or_default();
    if !primary.is_empty() {
        return primary.to_string();
    }
    if let Some(user) = users.first() {
        return node_of(user).to_string();
    }
    dataset.status.as_ref().map(|s| s.node.clone()).unwrap_or_default()
}
