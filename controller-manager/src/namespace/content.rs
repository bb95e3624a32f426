//! Deleting what a terminating namespace holds, one sweep at a time: every
//! object of every namespaced kind is deleted; objects already marked for
//! deletion are waited for, except one left past its grace period by more
//! than the margin (a pod on a node whose kubelet is gone), which is removed.

use rk_client::{Client, KindClient};
use rk_proto::v1::{DeleteRequest, ListOptions, ObjectMeta};
use rk_proto::{with_kind, ResourceList};
use std::time::Duration;
use tonic::{Code, Status};

/// Every namespaced kind, in the order they are deleted: controllers before
/// their pods (so none are replaced), pods before the datasets they use,
/// services before their endpoints (so the endpoints controller does not
/// rewrite them), events last (deleting the rest records some).
pub const CONTENT_KINDS: &[&str] = &["ReplicationController", "Pod", "Dataset", "Service", "Endpoints", "Event"];

/// What one sweep found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sweep {
    /// Objects it asked the apiserver to delete.
    pub deleted: usize,
    /// Objects already marked for deletion, waiting for a kubelet or a finalizer.
    pub waiting: usize,
}

impl Sweep {
    pub fn is_empty(&self) -> bool {
        self.deleted == 0 && self.waiting == 0
    }
}

pub struct Content {
    pub client: Client,
    /// How long past its grace period a marked object may wait before it is removed anyway.
    pub force_delete_margin: Duration,
}

impl Content {
    pub async fn sweep(&self, namespace: &str) -> Result<Sweep, Status> {
        let mut sweep = Sweep::default();
        for kind in CONTENT_KINDS {
            with_kind!(*kind, R => self.sweep_kind::<R>(namespace, &mut sweep).await?,
                otherwise unreachable!("CONTENT_KINDS are served"));
        }
        Ok(sweep)
    }

    async fn sweep_kind<R: KindClient>(&self, namespace: &str, sweep: &mut Sweep) -> Result<(), Status> {
        let list = self.client.list::<R>(ListOptions { namespace: namespace.into(), ..Default::default() }).await?;
        for object in list.into_items() {
            let meta = object.metadata();
            let grace_period_seconds = if meta.deletion_timestamp.is_empty() {
                None
            } else if overdue(meta, self.force_delete_margin) {
                tracing::info!(kind = R::KIND, namespace, name = %meta.name, "removing an object stuck in deletion");
                Some(0)
            } else {
                sweep.waiting += 1;
                continue;
            };
            let request = DeleteRequest {
                namespace: namespace.into(),
                name: meta.name.clone(),
                grace_period_seconds,
                ..Default::default()
            };
            match self.client.delete::<R>(request).await {
                Ok(_) => sweep.deleted += 1,
                Err(status) if status.code() == Code::NotFound => {}
                Err(status) => return Err(status),
            }
        }
        Ok(())
    }
}

/// Marked for deletion, held by no finalizer (those are waited for: their
/// owners remove them), and `margin` past the end of its grace period, which
/// deletionTimestamp records.
fn overdue(meta: &ObjectMeta, margin: Duration) -> bool {
    let margin = chrono::Duration::from_std(margin).unwrap_or(chrono::Duration::MAX);
    meta.finalizers.is_empty()
        && rk_proto::time::parse(&meta.deletion_timestamp)
            .is_none_or(|deadline| deadline.checked_add_signed(margin).is_none_or(|at| at <= chrono::Utc::now()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::manifest::KINDS;
    use rk_proto::Resource;

    #[test]
    fn every_namespaced_kind_is_swept() {
        let mut namespaced: Vec<_> =
            KINDS.iter().copied().filter(|kind| with_kind!(*kind, R => R::NAMESPACED, otherwise false)).collect();
        let mut swept = CONTENT_KINDS.to_vec();
        namespaced.sort();
        swept.sort();
        assert_eq!(swept, namespaced);
    }

    #[test]
    fn only_unfinalized_objects_past_grace_and_margin_are_overdue() {
        let marked = |seconds_ago: i64, finalizers: &[&str]| ObjectMeta {
            deletion_timestamp: rk_proto::time::format(chrono::Utc::now() - chrono::Duration::seconds(seconds_ago)),
            finalizers: finalizers.iter().map(|f| f.to_string()).collect(),
            ..Default::default()
        };
        let margin = Duration::from_secs(30);
        assert!(overdue(&marked(31, &[]), margin));
        assert!(!overdue(&marked(29, &[]), margin));
        assert!(!overdue(&marked(-10, &[]), margin), "still in its grace period");
        assert!(!overdue(&marked(3600, &["orphan"]), margin));
    }
}
