//! `--cascade=orphan`: an owner marked for deletion with the "orphan"
//! finalizer lets go of its dependents (their ownerReferences to it are
//! removed), then its finalizer is removed, which completes its deletion.

use super::object_ref::ObjectRef;
use async_trait::async_trait;
use rk_client::{Action, Client, KindClient, Reconciler};
use rk_proto::manifest::KINDS;
use rk_proto::v1::ListOptions;
use rk_proto::{with_kind, ResourceList};
use tonic::{Code, Status};

/// The apiserver's `rk_apiserver::registry::ORPHAN_FINALIZER` (a literal, so
/// the controller-manager does not depend on the apiserver crate).
pub const ORPHAN_FINALIZER: &str = "orphan";

/// Conflicting writers in a row before giving the key back to the queue's back-off.
const CONFLICT_RETRIES: usize = 5;

pub struct Orphaner {
    pub client: Client,
}

impl Orphaner {
    async fn orphan<R: KindClient>(&self, owner: &ObjectRef) -> Result<(), Status> {
        let current = match self.client.get::<R>(&owner.namespace, &owner.name).await {
            Ok(current) => current,
            Err(status) if status.code() == Code::NotFound => return Ok(()),
            Err(status) => return Err(status),
        };
        let meta = current.metadata();
        if meta.deletion_timestamp.is_empty() || !meta.finalizers.iter().any(|f| f == ORPHAN_FINALIZER) {
            return Ok(());
        }
        let uid = meta.uid.clone();
        for kind in KINDS {
            with_kind!(*kind, D => self.release::<D>(&owner.namespace, &uid).await?, otherwise ());
        }
        update_with_retry(&self.client, current, |owner| {
            let finalizers = &mut owner.metadata_mut().finalizers;
            let before = finalizers.len();
            finalizers.retain(|f| f != ORPHAN_FINALIZER);
            finalizers.len() != before
        })
        .await?;
        tracing::info!(%owner, "orphaned the dependents of a deleted owner");
        Ok(())
    }

    /// Removes the ownerReferences to `owner_uid` from every `D` in `namespace`
    /// (all namespaces for a cluster-scoped owner). Read from the API, not the
    /// cache, so that a dependent the informers have not seen yet is released too.
    async fn release<D: KindClient>(&self, namespace: &str, owner_uid: &str) -> Result<(), Status> {
        if !D::NAMESPACED && !namespace.is_empty() {
            // A cluster-scoped object cannot depend on a namespaced owner.
            return Ok(());
        }
        let list = self.client.list::<D>(ListOptions { namespace: namespace.into(), ..Default::default() }).await?;
        for dependent in list.into_items() {
            update_with_retry(&self.client, dependent, |dependent| {
                let references = &mut dependent.metadata_mut().owner_references;
                let before = references.len();
                references.retain(|r| r.uid != owner_uid);
                references.len() != before
            })
            .await?;
        }
        Ok(())
    }
}

/// Applies `change` (which says whether it changed anything) and writes the
/// object back compare-and-swap; on a conflict it re-reads the object and
/// tries again. An object that is gone, or replaced by a namesake, is left alone.
async fn update_with_retry<R: KindClient>(
    client: &Client,
    mut object: R,
    change: impl Fn(&mut R) -> bool,
) -> Result<(), Status> {
    let meta = object.metadata();
    let (namespace, name, uid) = (meta.namespace.clone(), meta.name.clone(), meta.uid.clone());
    let mut attempts = 0;
    loop {
        if !change(&mut object) {
            return Ok(());
        }
        match client.update(object).await {
            Ok(_) => return Ok(()),
            Err(status) if status.code() == Code::NotFound => return Ok(()),
            Err(status) if status.code() == Code::Aborted && attempts < CONFLICT_RETRIES => attempts += 1,
            Err(status) => return Err(status),
        }
        object = match client.get::<R>(&namespace, &name).await {
            Ok(current) if current.metadata().uid == uid => current,
            Ok(_) => return Ok(()),
            Err(status) if status.code() == Code::NotFound => return Ok(()),
            Err(status) => return Err(status),
        };
    }
}

#[async_trait]
impl Reconciler for Orphaner {
    fn name(&self) -> &'static str {
        "garbage-collector-orphaner"
    }

    async fn reconcile(&self, key: &str) -> Result<Action, Box<dyn std::error::Error + Send + Sync>> {
        let Some(owner) = ObjectRef::parse(key) else { return Ok(Action::Done) };
        with_kind!(owner.kind.as_str(), R => self.orphan::<R>(&owner).await?, otherwise ());
        Ok(Action::Done)
    }
}
