//! Binding a placed pod through the apiserver's Binding call, concurrently
//! with the scheduling of the next pods. The pod counts on its node (assumed)
//! from before the call; the outcome confirms or undoes that.

use crate::scheduler::Shared;
use rk_client::events::EventType;
use rk_proto::v1::{Binding, ObjectMeta, ObjectReference, Pod};
use rk_proto::Resource;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tonic::Code;

/// A bind that takes longer than this is treated as failed and retried (if it
/// did succeed, the retry finds the pod bound and drops it).
const BIND_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn bind(shared: Arc<Shared>, key: String, pod: Arc<Pod>, node: String) {
    let meta = pod.metadata();
    let binding = Binding {
        metadata: Some(ObjectMeta {
            name: meta.name.clone(),
            namespace: meta.namespace.clone(),
            uid: meta.uid.clone(),
            ..Default::default()
        }),
        target: Some(ObjectReference { kind: "Node".into(), name: node.clone(), ..Default::default() }),
        ..Default::default()
    };
    let result = tokio::time::timeout(BIND_TIMEOUT, shared.client.bind(binding))
        .await
        .unwrap_or_else(|_| Err(tonic::Status::deadline_exceeded("no answer to the bind")));
    match result {
        Ok(_) => {
            tracing::debug!(pod = %key, %node, "bound");
            shared.cache.lock().unwrap().finish_binding(&key, Instant::now());
            shared.queue.done(&key);
            shared.metrics.bound.fetch_add(1, Relaxed);
            let message = format!("Successfully assigned {}/{} to {node}", meta.namespace, meta.name);
            shared.recorder.record(&*pod, EventType::Normal, "Scheduled", message);
        }
        // Bound by someone else (or deleted, or replaced) meanwhile: the informer will tell.
        Err(status) if matches!(status.code(), Code::FailedPrecondition | Code::NotFound | Code::Aborted) => {
            tracing::debug!(pod = %key, %node, %status, "bind refused");
            shared.cache.lock().unwrap().forget(&key);
            shared.queue.done(&key);
            shared.metrics.lost_races.fetch_add(1, Relaxed);
        }
        Err(status) => {
            tracing::warn!(pod = %key, %node, %status, "bind failed; retrying after a back-off");
            shared.cache.lock().unwrap().forget(&key);
            shared.queue.failed(&key);
            shared.metrics.bind_errors.fetch_add(1, Relaxed);
        }
    }
}
