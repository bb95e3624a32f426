//! Builders of Node and Pod objects, shared by the unit tests, the integration
//! tests and the benchmark. Nodes registered through the API stand in for
//! kubelets there, so a node is built the way a kubelet would report itself.

use rk_proto::v1::{
    Container, ContainerPort, Node, NodeCondition, NodeStatus, ObjectMeta, OwnerReference, Pod, PodSpec,
    ResourceRequirements,
};
use std::collections::BTreeMap;

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// A Ready node offering `allocatable` (e.g. `[("cpu", "2"), ("pods", "110")]`),
/// reported as its capacity too.
pub fn node(name: &str, allocatable: &[(&str, &str)]) -> Node {
    Node {
        metadata: Some(ObjectMeta { name: name.into(), ..Default::default() }),
        status: Some(NodeStatus {
            allocatable: map(allocatable),
            capacity: map(allocatable),
            conditions: vec![NodeCondition { r#type: "Ready".into(), status: "True".into(), ..Default::default() }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// `node` with labels.
pub fn labelled_node(name: &str, labels: &[(&str, &str)], allocatable: &[(&str, &str)]) -> Node {
    let mut node = node(name, allocatable);
    node.metadata.get_or_insert_with(Default::default).labels = map(labels);
    node
}

/// An unbound pod in `default` with the given containers.
pub fn pod_with_containers(containers: Vec<Container>) -> Pod {
    Pod {
        metadata: Some(ObjectMeta { name: "pod".into(), namespace: "default".into(), ..Default::default() }),
        spec: Some(PodSpec { containers, ..Default::default() }),
        ..Default::default()
    }
}

/// An unbound pod `default/<name>` with one container of the given requests and limits.
pub fn pod(name: &str, requests: &[(&str, &str)], limits: &[(&str, &str)]) -> Pod {
    let mut pod = pod_with_containers(vec![container(requests, limits)]);
    pod.metadata.get_or_insert_with(Default::default).name = name.into();
    pod
}

/// A container with the given requests and limits.
pub fn container(requests: &[(&str, &str)], limits: &[(&str, &str)]) -> Container {
    Container {
        name: "app".into(),
        image: "rk/pause:1".into(),
        resources: Some(ResourceRequirements { requests: map(requests), limits: map(limits) }),
        ..Default::default()
    }
}

/// `pod` restricted to nodes carrying every label of `selector`.
pub fn with_node_selector(mut pod: Pod, selector: &[(&str, &str)]) -> Pod {
    pod.spec.get_or_insert_with(Default::default).node_selector = map(selector);
    pod
}

/// `pod` asking for `host_port` (TCP, any address) on its node.
pub fn with_host_port(mut pod: Pod, host_port: i32) -> Pod {
    let spec = pod.spec.get_or_insert_with(Default::default);
    spec.containers[0].ports.push(ContainerPort { container_port: host_port, host_port, ..Default::default() });
    pod
}

/// `pod` controlled by the controller with uid `owner_uid`.
pub fn owned_by(mut pod: Pod, owner_uid: &str) -> Pod {
    pod.metadata.get_or_insert_with(Default::default).owner_references.push(OwnerReference {
        kind: "ReplicationController".into(),
        name: "rc".into(),
        uid: owner_uid.into(),
        controller: Some(true),
        ..Default::default()
    });
    pod
}

/// `pod` bound to `node_name`.
pub fn bound_to(mut pod: Pod, node_name: &str) -> Pod {
    pod.spec.get_or_insert_with(Default::default).node_name = node_name.into();
    pod
}
