//! One terminating namespace per reconcile: sweep its content, and once a
//! sweep finds nothing, remove the "kubernetes" finalizer.

use super::content::Content;
use async_trait::async_trait;
use rk_client::{Action, Client, Reconciler, Store};
use rk_proto::v1::Namespace;
use rk_proto::Resource;
use std::sync::Arc;
use std::time::Duration;
use tonic::Code;

/// The apiserver's `rk_apiserver::registry::NAMESPACE_FINALIZER` (a literal,
/// so the controller-manager does not depend on the apiserver crate).
const NAMESPACE_FINALIZER: &str = "kubernetes";

/// How soon to look again while objects are waiting to finish their deletion.
const WAITING_RECHECK: Duration = Duration::from_secs(1);

pub struct NamespaceController {
    pub client: Client,
    pub namespaces: Arc<Store<Namespace>>,
    pub content: Content,
}

#[async_trait]
impl Reconciler for NamespaceController {
    fn name(&self) -> &'static str {
        "namespace"
    }

    async fn reconcile(&self, name: &str) -> Result<Action, Box<dyn std::error::Error + Send + Sync>> {
        let Some(namespace) = self.namespaces.get(name) else { return Ok(Action::Done) };
        let meta = namespace.metadata();
        if meta.deletion_timestamp.is_empty() || !meta.finalizers.iter().any(|f| f == NAMESPACE_FINALIZER) {
            return Ok(Action::Done);
        }
        let sweep = self.content.sweep(name).await?;
        if sweep.waiting > 0 {
            tracing::debug!(namespace = name, ?sweep, "waiting for objects to finish their deletion");
            return Ok(Action::RequeueAfter(WAITING_RECHECK));
        }
        if !sweep.is_empty() {
            tracing::info!(namespace = name, ?sweep, "deleted objects of a terminating namespace");
            // Sweep again at once: only an empty sweep proves the namespace empty.
            return Ok(Action::RequeueAfter(Duration::ZERO));
        }
        let mut finalized = (*namespace).clone();
        finalized.metadata_mut().finalizers.retain(|f| f != NAMESPACE_FINALIZER);
        // Compare-and-swap on the cached version: a conflict retries with back-off.
        match self.client.update(finalized).await {
            Ok(_) => tracing::info!(namespace = name, "namespace emptied; finalizer removed"),
            Err(status) if status.code() == Code::NotFound => {}
            Err(status) => return Err(status.into()),
        }
        Ok(Action::Done)
    }
}
