//! Deletes dependents whose owners are all gone (background cascade): a
//! dependent survives while any owner it names still exists under that uid.

use super::graph::Graph;
use super::object_ref::ObjectRef;
use async_trait::async_trait;
use rk_client::{Action, Client, KindClient, Reconciler};
use rk_proto::v1::{DeleteRequest, OwnerReference, Preconditions};
use rk_proto::{with_kind, Resource};
use std::sync::Arc;
use tonic::{Code, Status};

pub struct Collector {
    pub client: Client,
    pub graph: Arc<Graph>,
}

impl Collector {
    /// Whether the informers hold the owner `reference` (made by an object in `namespace`) points to.
    fn owner_cached(&self, namespace: &str, reference: &OwnerReference) -> bool {
        ObjectRef::owner(reference, namespace).is_some_and(|owner| self.graph.contains(&owner, &reference.uid))
    }

    /// Whether the owner exists, asking the API when the cache does not have
    /// it. An owner of a kind rk does not serve cannot be checked, so counts as existing.
    async fn owner_exists(&self, namespace: &str, reference: &OwnerReference) -> Result<bool, Status> {
        if self.owner_cached(namespace, reference) {
            return Ok(true);
        }
        let Some(owner) = ObjectRef::owner(reference, namespace) else {
            tracing::debug!(kind = %reference.kind, "owner of an unknown kind; keeping its dependents");
            return Ok(true);
        };
        with_kind!(owner.kind.as_str(), R => {
            match self.client.get::<R>(&owner.namespace, &owner.name).await {
                Ok(found) => Ok(found.metadata().uid == reference.uid),
                Err(status) if status.code() == Code::NotFound => Ok(false),
                Err(status) => Err(status),
            }
        }, otherwise Ok(true))
    }

    /// Re-reads the dependent and deletes it if none of its current owners exists.
    async fn collect<R: KindClient>(&self, dependent: &ObjectRef) -> Result<(), Status> {
        let current = match self.client.get::<R>(&dependent.namespace, &dependent.name).await {
            Ok(current) => current,
            Err(status) if status.code() == Code::NotFound => return Ok(()),
            Err(status) => return Err(status),
        };
        let meta = current.metadata();
        if !meta.deletion_timestamp.is_empty() || meta.owner_references.is_empty() {
            return Ok(());
        }
        for reference in &meta.owner_references {
            if self.owner_exists(&dependent.namespace, reference).await? {
                return Ok(());
            }
        }
        let request = DeleteRequest {
            namespace: meta.namespace.clone(),
            name: meta.name.clone(),
            // Only the version judged here: if it changed meanwhile (adopted by
            // a new owner), the conflict sends the key round again.
            preconditions: Some(Preconditions {
                uid: meta.uid.clone(),
                resource_version: meta.resource_version.clone(),
            }),
            propagation_policy: "Background".into(),
            ..Default::default()
        };
        match self.client.delete::<R>(request).await {
            Ok(_) => {
                let owners: Vec<_> = meta.owner_references.iter().map(|o| format!("{}/{}", o.kind, o.name)).collect();
                tracing::info!(%dependent, ?owners, "deleted a dependent whose owners are gone");
                Ok(())
            }
            Err(status) if status.code() == Code::NotFound => Ok(()),
            Err(status) => Err(status),
        }
    }
}

#[async_trait]
impl Reconciler for Collector {
    fn name(&self) -> &'static str {
        "garbage-collector"
    }

    async fn reconcile(&self, key: &str) -> Result<Action, Box<dyn std::error::Error + Send + Sync>> {
        let Some(dependent) = ObjectRef::parse(key) else { return Ok(Action::Done) };
        let owners = self.graph.owners(&dependent);
        // The common case, every resync: an owner is in the cache, no API call needed.
        if owners.is_empty() || owners.iter().any(|owner| self.owner_cached(&dependent.namespace, owner)) {
            return Ok(Action::Done);
        }
        with_kind!(dependent.kind.as_str(), R => self.collect::<R>(&dependent).await?, otherwise ());
        Ok(Action::Done)
    }
}
