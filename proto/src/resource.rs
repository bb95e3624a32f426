//! What every stored kind has in common, so registries, clients and rkctl are
//! written once, generically.

use crate::v1::*;
use serde::{de::DeserializeOwned, Serialize};
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchEventType {
    Added,
    Modified,
    Deleted,
}

impl WatchEventType {
    pub fn as_str(self) -> &'static str {
        match self {
            WatchEventType::Added => "ADDED",
            WatchEventType::Modified => "MODIFIED",
            WatchEventType::Deleted => "DELETED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [WatchEventType::Added, WatchEventType::Modified, WatchEventType::Deleted].into_iter().find(|t| t.as_str() == s)
    }
}

pub trait Resource:
    prost::Message + Default + Clone + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// `Pod`
    const KIND: &'static str;
    /// `pods`: the etcd key segment and the name rkctl accepts.
    const PLURAL: &'static str;
    /// `pod`
    const SINGULAR: &'static str;
    const SHORT_NAMES: &'static [&'static str];
    const NAMESPACED: bool;
    /// Fields a field selector may name.
    const SELECTABLE_FIELDS: &'static [&'static str];

    type List: ResourceList<Item = Self>;
    type WatchEvent: prost::Message + Default + Send + 'static;

    fn metadata_opt(&self) -> Option<&ObjectMeta>;
    fn metadata_mut(&mut self) -> &mut ObjectMeta;
    fn type_meta(&self) -> (&str, &str);
    fn set_type_meta(&mut self);
    fn watch_event(kind: WatchEventType, object: Self) -> Self::WatchEvent;
    /// An event whose encoding was made once with [`crate::watch_event::encode_watch_event`].
    fn pre_encoded_watch_event(encoded: bytes::Bytes) -> Self::WatchEvent;
    fn into_watch_parts(event: Self::WatchEvent) -> (String, Option<Self>);

    fn metadata(&self) -> &ObjectMeta {
        static EMPTY: LazyLock<ObjectMeta> = LazyLock::new(ObjectMeta::default);
        self.metadata_opt().unwrap_or(&EMPTY)
    }

    /// The value of a selectable field; every kind has metadata.name and metadata.namespace.
    fn field(&self, field: &str) -> String {
        let meta = self.metadata();
        match field {
            "metadata.name" => meta.name.clone(),
            "metadata.namespace" => meta.namespace.clone(),
            _ => String::new(),
        }
    }
}

pub trait ResourceList: prost::Message + Default + Serialize + DeserializeOwned + Send + 'static {
    type Item: Resource;
    fn new(items: Vec<Self::Item>, metadata: ListMeta) -> Self;
    fn items(&self) -> &[Self::Item];
    fn into_items(self) -> Vec<Self::Item>;
    fn list_meta(&self) -> ListMeta;
}

const METADATA_FIELDS: &[&str] = &["metadata.name", "metadata.namespace"];

macro_rules! resource {
    ($kind:ident, $list:ident, $event:ident, $plural:literal, $singular:literal, [$($short:literal),*],
     namespaced: $ns:literal, fields: $fields:expr $(, field_fn: $field_fn:path)?) => {
        impl Resource for $kind {
            const KIND: &'static str = stringify!($kind);
            const PLURAL: &'static str = $plural;
            const SINGULAR: &'static str = $singular;
            const SHORT_NAMES: &'static [&'static str] = &[$($short),*];
            const NAMESPACED: bool = $ns;
            const SELECTABLE_FIELDS: &'static [&'static str] = $fields;
            type List = $list;
            type WatchEvent = $event;

            fn metadata_opt(&self) -> Option<&ObjectMeta> {
                self.metadata.as_ref()
            }
            fn metadata_mut(&mut self) -> &mut ObjectMeta {
                self.metadata.get_or_insert_with(Default::default)
            }
            fn type_meta(&self) -> (&str, &str) {
                (&self.api_version, &self.kind)
            }
            fn set_type_meta(&mut self) {
                self.api_version = crate::API_VERSION.to_string();
                self.kind = Self::KIND.to_string();
            }
            fn watch_event(kind: WatchEventType, object: Self) -> $event {
                $event::new(kind.as_str(), object)
            }
            fn pre_encoded_watch_event(encoded: bytes::Bytes) -> $event {
                $event::pre_encoded(encoded)
            }
            fn into_watch_parts(event: $event) -> (String, Option<Self>) {
                (event.r#type, event.object)
            }
            $(fn field(&self, field: &str) -> String {
                $field_fn(self, field)
            })?
        }

        impl ResourceList for $list {
            type Item = $kind;
            fn new(items: Vec<$kind>, metadata: ListMeta) -> Self {
                $list {
                    api_version: crate::API_VERSION.to_string(),
                    kind: concat!(stringify!($kind), "List").to_string(),
                    metadata: Some(metadata),
                    items,
                }
            }
            fn items(&self) -> &[$kind] {
                &self.items
            }
            fn into_items(self) -> Vec<$kind> {
                self.items
            }
            fn list_meta(&self) -> ListMeta {
                self.metadata.clone().unwrap_or_default()
            }
        }
    };
}

fn pod_field(pod: &Pod, field: &str) -> String {
    match field {
        "spec.nodeName" => pod.spec.as_ref().map(|s| s.node_name.clone()).unwrap_or_default(),
        "status.phase" => pod.status.as_ref().map(|s| s.phase.clone()).unwrap_or_default(),
        "spec.restartPolicy" => pod.spec.as_ref().map(|s| s.restart_policy.clone()).unwrap_or_default(),
        _ => {
            let meta = pod.metadata();
            if field == "metadata.name" {
                meta.name.clone()
            } else {
                meta.namespace.clone()
            }
        }
    }
}

/// What a kubelet or controller selects datasets by: the node that should or does hold them.
fn dataset_field(dataset: &Dataset, field: &str) -> String {
    let spec = dataset.spec.clone().unwrap_or_default();
    let status = dataset.status.clone().unwrap_or_default();
    match field {
        "spec.primary" => spec.primary,
        "status.node" => status.node,
        "status.targetNode" => status.target_node,
        "status.phase" => status.phase,
        "metadata.name" => dataset.metadata().name.clone(),
        "metadata.namespace" => dataset.metadata().namespace.clone(),
        _ => String::new(),
    }
}

resource!(Pod, PodList, PodWatchEvent, "pods", "pod", ["po"], namespaced: true,
    fields: &["metadata.name", "metadata.namespace", "spec.nodeName", "status.phase", "spec.restartPolicy"],
    field_fn: pod_field);
resource!(ReplicationController, ReplicationControllerList, ReplicationControllerWatchEvent,
    "replicationcontrollers", "replicationcontroller", ["rc"], namespaced: true, fields: METADATA_FIELDS);
resource!(Service, ServiceList, ServiceWatchEvent, "services", "service", ["svc"], namespaced: true, fields: METADATA_FIELDS);
resource!(Endpoints, EndpointsList, EndpointsWatchEvent, "endpoints", "endpoints", ["ep"], namespaced: true, fields: METADATA_FIELDS);
resource!(Node, NodeList, NodeWatchEvent, "nodes", "node", ["no"], namespaced: false, fields: METADATA_FIELDS);
resource!(Namespace, NamespaceList, NamespaceWatchEvent, "namespaces", "namespace", ["ns"], namespaced: false, fields: METADATA_FIELDS);
resource!(Event, EventList, EventWatchEvent, "events", "event", ["ev"], namespaced: true, fields: METADATA_FIELDS);
resource!(Dataset, DatasetList, DatasetWatchEvent, "datasets", "dataset", ["dset"], namespaced: true,
    fields: &["metadata.name", "metadata.namespace", "spec.primary", "status.node", "status.targetNode", "status.phase"],
    field_fn: dataset_field);
