//! Side effects some kinds need around storage writes: allocating a Service's
//! cluster IP and node ports, a pod's graceful deletion. Kinds without any use
//! [`NoHooks`].

use crate::error::ApiError;
use async_trait::async_trait;

#[async_trait]
pub trait Hooks<R>: Send + Sync + 'static {
    /// Runs after validation, before the object is stored (allocate what it needs).
    async fn before_create(&self, _object: &mut R) -> Result<(), ApiError> {
        Ok(())
    }

    /// Undoes `before_create` when the create failed.
    async fn create_failed(&self, _object: &R) {}

    /// Runs on an update before validation (after defaults): carry over what the
    /// client may leave out.
    fn prepare_update(&self, _old: &R, _new: &mut R) {}

    /// Runs after validation, before the new version is stored.
    async fn before_update(&self, _old: &R, _new: &mut R) -> Result<(), ApiError> {
        Ok(())
    }

    /// Releases what `old` held and the stored `new` no longer does; or, when
    /// the update failed (`stored` false), what `before_update` took for `new`.
    async fn update_finished(&self, _old: &R, _new: &R, _stored: bool) {}

    /// Adjusts an object being marked for deletion (a Namespace becomes Terminating).
    fn marked_for_deletion(&self, _object: &mut R) {}

    /// Releases what a deleted object held.
    async fn after_delete(&self, _object: &R) {}

    /// Some(seconds) when deletion must be graceful: the object is marked with
    /// a deletionTimestamp and removed later by its owner (the kubelet).
    fn grace_period(&self, _object: &R, _requested: Option<i64>) -> Option<i64> {
        None
    }
}

pub struct NoHooks;

impl<R: Send + Sync + 'static> Hooks<R> for NoHooks {}
