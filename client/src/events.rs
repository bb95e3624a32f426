//! Records Events about objects, as Kubernetes components do. Repeats of the
//! same event on the same object are folded into one Event whose count and
//! lastTimestamp grow, so a crash-looping pod does not flood the store.

use crate::client::Client;
use rk_proto::v1::{Event, EventSource, ObjectMeta, ObjectReference};
use rk_proto::Resource;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use tonic::Code;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Normal,
    Warning,
}

#[derive(Clone)]
pub struct EventRecorder {
    client: Client,
    source: EventSource,
}

impl EventRecorder {
    /// `component`: who reports (`rk-scheduler`); `host`: where it runs (may be empty).
    pub fn new(client: Client, component: &str, host: &str) -> Self {
        EventRecorder { client, source: EventSource { component: component.into(), host: host.into() } }
    }

    /// Records the event in the background; failures are logged, never returned:
    /// an event is a report, and must not fail the work it reports on.
    pub fn record<R: Resource>(&self, object: &R, kind: EventType, reason: &str, message: impl Into<String>) {
        let event = self.event(object, kind, reason, message.into());
        let client = self.client.clone();
        tokio::spawn(async move {
            if let Err(status) = store(&client, event).await {
                tracing::warn!(%status, "could not record an event");
            }
        });
    }

    fn event<R: Resource>(&self, object: &R, kind: EventType, reason: &str, message: String) -> Event {
        let meta = object.metadata();
        let involved = ObjectReference {
            kind: R::KIND.into(),
            namespace: meta.namespace.clone(),
            name: meta.name.clone(),
            uid: meta.uid.clone(),
            api_version: rk_proto::API_VERSION.into(),
            resource_version: meta.resource_version.clone(),
            field_path: String::new(),
        };
        let mut hasher = DefaultHasher::new();
        (&meta.uid, reason, &message, &self.source.component).hash(&mut hasher);
        let now = rk_proto::time::now();
        Event {
            metadata: Some(ObjectMeta {
                name: format!("{}.{:016x}", meta.name, hasher.finish()),
                // Cluster-scoped objects' events live in `default`, as in Kubernetes.
                namespace: if meta.namespace.is_empty() { "default".into() } else { meta.namespace.clone() },
                ..Default::default()
            }),
            involved_object: Some(involved),
            reason: reason.into(),
            message,
            source: Some(self.source.clone()),
            first_timestamp: now.clone(),
            last_timestamp: now,
            count: 1,
            r#type: match kind {
                EventType::Normal => "Normal".into(),
                EventType::Warning => "Warning".into(),
            },
            ..Default::default()
        }
    }
}

/// Creates the event, or bumps the count of the existing one with the same name.
async fn store(client: &Client, event: Event) -> Result<(), tonic::Status> {
    let (namespace, name) = (event.metadata().namespace.clone(), event.metadata().name.clone());
    let last_timestamp = event.last_timestamp.clone();
    match client.create(event).await {
        Ok(_) => return Ok(()),
        Err(status) if status.code() == Code::AlreadyExists => {}
        Err(status) => return Err(status),
    }
    for _ in 0..5 {
        let mut existing: Event = client.get(&namespace, &name).await?;
        existing.count += 1;
        existing.last_timestamp.clone_from(&last_timestamp);
        match client.update(existing).await {
            Ok(_) => return Ok(()),
            Err(status) if status.code() == Code::Aborted => continue,
            Err(status) => return Err(status),
        }
    }
    Ok(())
}
