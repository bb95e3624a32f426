//! Server-side watch filtering by namespace, labels and fields, with
//! Kubernetes' rule for objects that move in or out of the selection.

use super::cache::CachedEvent;
use crate::storage::EventKind;
use rk_proto::fields::FieldSelector;
use rk_proto::labels::LabelSelector;
use rk_proto::{Resource, WatchEventType};

#[derive(Debug, Clone, Default)]
pub struct WatchFilter {
    /// Empty: every namespace.
    pub namespace: String,
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl WatchFilter {
    pub fn matches<R: Resource>(&self, object: &R) -> bool {
        let meta = object.metadata();
        (self.namespace.is_empty() || meta.namespace == self.namespace)
            && self.labels.matches(&meta.labels)
            && self.fields.matches(|field| object.field(field))
    }

    /// What a watcher with this filter sees of `event`: an object entering the
    /// selection is ADDED, one leaving it is DELETED, others are skipped.
    pub(super) fn view<R: Resource>(&self, event: &CachedEvent<R>) -> Option<WatchEventType> {
        let was = event.previous.as_ref().is_some_and(|p| self.matches(p));
        match event.kind {
            EventKind::Delete => was.then_some(WatchEventType::Deleted),
            EventKind::Put => match (was, self.matches(&event.object)) {
                (true, true) => Some(WatchEventType::Modified),
                (false, true) => Some(WatchEventType::Added),
                (true, false) => Some(WatchEventType::Deleted),
                (false, false) => None,
            },
        }
    }
}
