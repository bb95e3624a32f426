//! Generates the API types and gRPC services from `api/v1/*.proto`.
//!
//! The generated messages double as the Kubernetes v1 JSON/YAML types: serde
//! derives are attached here, with Kubernetes' camelCase names, empty values
//! left out of the output, and the few names that camelCase gets wrong
//! (`hostIP`, `clusterIP`, ...) spelled out.

const PROTOS: &[&str] = &[
    "api/v1/meta.proto",
    "api/v1/intstr.proto",
    "api/v1/pod.proto",
    "api/v1/replicationcontroller.proto",
    "api/v1/service.proto",
    "api/v1/endpoints.proto",
    "api/v1/node.proto",
    "api/v1/namespace.proto",
    "api/v1/event.proto",
    "api/v1/dataset.proto",
    "api/v1/api.proto",
    "api/v1/streaming.proto",
    "api/v1/dataset_transfer.proto",
];

/// Fields whose Kubernetes JSON name is not the camelCase of the proto name.
const JSON_NAMES: &[(&str, &str)] = &[
    ("PodStatus.host_ip", "hostIP"),
    ("PodStatus.pod_ip", "podIP"),
    ("ContainerPort.host_ip", "hostIP"),
    ("ContainerStatus.container_id", "containerID"),
    ("ContainerStatus.image_id", "imageID"),
    ("ContainerStateTerminated.container_id", "containerID"),
    ("ServiceSpec.cluster_ip", "clusterIP"),
    ("ServiceSpec.external_ips", "externalIPs"),
    ("ServiceSpec.load_balancer_ip", "loadBalancerIP"),
    ("SessionAffinityConfig.client_ip", "clientIP"),
    ("NodeSpec.pod_cidr", "podCIDR"),
    ("NodeSpec.provider_id", "providerID"),
    ("NodeSystemInfo.machine_id", "machineID"),
    ("NodeSystemInfo.system_uuid", "systemUUID"),
    ("NodeSystemInfo.boot_id", "bootID"),
    ("DaemonEndpoint.port", "Port"),
];

/// Resource maps whose values are quantities, which manifests may write as numbers.
const QUANTITY_MAPS: &[&str] =
    &["ResourceRequirements.limits", "ResourceRequirements.requests", "NodeStatus.capacity", "NodeStatus.allocatable"];

/// Kinds whose `<Kind>WatchEvent` is written by hand (src/watch_event.rs).
const WATCHED_KINDS: &[&str] =
    &["Pod", "ReplicationController", "Service", "Endpoints", "Node", "Namespace", "Event", "Dataset"];

fn main() -> std::io::Result<()> {
    let mut builder = tonic_prost_build::configure()
        .btree_map(".")
        .type_attribute(
            ".rk.api.v1",
            "#[derive(serde::Serialize, serde::Deserialize)] #[serde(rename_all = \"camelCase\")]",
        )
        .field_attribute(".rk.api.v1", "#[serde(default, skip_serializing_if = \"crate::serde_util::is_default\")]");
    for (field, json) in JSON_NAMES {
        builder = builder.field_attribute(format!(".rk.api.v1.{field}"), format!("#[serde(rename = \"{json}\")]"));
    }
    for field in QUANTITY_MAPS {
        builder = builder.field_attribute(
            format!(".rk.api.v1.{field}"),
            "#[serde(deserialize_with = \"crate::quantity::deserialize_quantity_map\")]",
        );
    }
    for kind in WATCHED_KINDS {
        builder = builder
            .extern_path(format!(".rk.api.v1.{kind}WatchEvent"), format!("crate::watch_event::{kind}WatchEvent"));
    }
    builder.compile_protos(PROTOS, &["."])
}
