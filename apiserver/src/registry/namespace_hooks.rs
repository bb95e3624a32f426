//! Namespaces are deleted in two steps, as in Kubernetes: deletion marks the
//! namespace Terminating; the namespace controller deletes everything in it
//! and then removes the `kubernetes` finalizer, which deletes the namespace.

use super::hooks::Hooks;
use crate::error::ApiError;
use async_trait::async_trait;
use rk_proto::v1::Namespace;
use rk_proto::Resource;

/// The finalizer the namespace controller removes once the namespace is empty.
pub const NAMESPACE_FINALIZER: &str = "kubernetes";

pub struct NamespaceHooks;

#[async_trait]
impl Hooks<Namespace> for NamespaceHooks {
    async fn before_create(&self, namespace: &mut Namespace) -> Result<(), ApiError> {
        let finalizers = &mut namespace.metadata_mut().finalizers;
        if !finalizers.iter().any(|f| f == NAMESPACE_FINALIZER) {
            finalizers.push(NAMESPACE_FINALIZER.to_string());
        }
        Ok(())
    }

    fn marked_for_deletion(&self, namespace: &mut Namespace) {
        namespace.status.get_or_insert_with(Default::default).phase = "Terminating".into();
    }
}
