//! The subsets of a Service's Endpoints, as Kubernetes computes them: each pod
//! with an IP that is not being deleted or finished is an address, ready or
//! not ready by its Ready condition; each Service port resolves per pod
//! (a number as is, a name through the pod's container ports); pods that
//! resolve to the same ports share a subset, and a pod lacking a named port is
//! left out of that port.

use crate::replication::{is_ready, is_terminal};
use rk_proto::v1::{EndpointAddress, EndpointPort, EndpointSubset, ObjectReference, Pod, Service, ServicePort};
use rk_proto::{IntOrString, Resource};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The subsets `pods` (the pods the Service selects) make, in a stable order
/// so an unchanged set compares equal.
pub fn subsets(service: &Service, pods: &[Arc<Pod>]) -> Vec<EndpointSubset> {
    let service_ports = service.spec.as_ref().map(|spec| spec.ports.as_slice()).unwrap_or_default();
    let mut groups: BTreeMap<Vec<(String, i32, String)>, EndpointSubset> = BTreeMap::new();
    for pod in pods.iter().filter(|pod| is_endpoint(pod)) {
        let ports: Vec<EndpointPort> = service_ports.iter().filter_map(|port| endpoint_port(pod, port)).collect();
        if ports.is_empty() && !service_ports.is_empty() {
            continue; // It serves none of the Service's ports.
        }
        let key = ports.iter().map(|port| (port.name.clone(), port.port, port.protocol.clone())).collect();
        let subset = groups.entry(key).or_insert_with(|| EndpointSubset { ports, ..Default::default() });
        let addresses = if is_ready(pod) { &mut subset.addresses } else { &mut subset.not_ready_addresses };
        addresses.push(address(pod));
    }
    let mut subsets: Vec<EndpointSubset> = groups.into_values().collect();
    for subset in &mut subsets {
        subset.addresses.sort_by(address_order);
        subset.not_ready_addresses.sort_by(address_order);
    }
    subsets
}

/// Has an IP and is neither being deleted nor finished.
fn is_endpoint(pod: &Pod) -> bool {
    let has_ip = pod.status.as_ref().is_some_and(|status| !status.pod_ip.is_empty());
    has_ip && pod.metadata().deletion_timestamp.is_empty() && !is_terminal(pod)
}

/// The Service port as this pod serves it, or None when the pod has no
/// container port of the target port's name and protocol.
fn endpoint_port(pod: &Pod, service_port: &ServicePort) -> Option<EndpointPort> {
    let target = service_port.target_port.clone().unwrap_or_else(|| IntOrString::int(service_port.port));
    let port = match target.as_name() {
        Some(name) => {
            pod.spec
                .as_ref()?
                .containers
                .iter()
                .flat_map(|container| &container.ports)
                .find(|port| port.name == name && port.protocol == service_port.protocol)?
                .container_port
        }
        None => target.int_val,
    };
    Some(EndpointPort { name: service_port.name.clone(), port, protocol: service_port.protocol.clone() })
}

fn address(pod: &Pod) -> EndpointAddress {
    let meta = pod.metadata();
    let node_name = pod.spec.as_ref().map(|spec| spec.node_name.clone()).filter(|node| !node.is_empty());
    EndpointAddress {
        ip: pod.status.as_ref().map(|status| status.pod_ip.clone()).unwrap_or_default(),
        hostname: String::new(),
        node_name,
        target_ref: Some(ObjectReference {
            kind: Pod::KIND.into(),
            namespace: meta.namespace.clone(),
            name: meta.name.clone(),
            uid: meta.uid.clone(),
            ..Default::default()
        }),
    }
}

fn address_order(a: &EndpointAddress, b: &EndpointAddress) -> std::cmp::Ordering {
    let name = |address: &EndpointAddress| address.target_ref.as_ref().map(|target| target.name.clone());
    (&a.ip, name(a)).cmp(&(&b.ip, name(b)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::v1::{Container, ContainerPort, ObjectMeta, PodCondition, PodSpec, PodStatus, ServiceSpec};

    fn pod(name: &str, ip: &str, ready: bool, web_port: Option<i32>) -> Arc<Pod> {
        let ports = web_port
            .map(|port| ContainerPort {
                name: "web".into(),
                container_port: port,
                protocol: "TCP".into(),
                ..Default::default()
            })
            .into_iter()
            .collect();
        let ready = PodCondition {
            r#type: "Ready".into(),
            status: if ready { "True" } else { "False" }.into(),
            ..Default::default()
        };
        Arc::new(Pod {
            metadata: Some(ObjectMeta {
                name: name.into(),
                namespace: "ns".into(),
                uid: format!("uid-{name}"),
                ..Default::default()
            }),
            spec: Some(PodSpec {
                node_name: "node-1".into(),
                containers: vec![Container { name: "c".into(), ports, ..Default::default() }],
                ..Default::default()
            }),
            status: Some(PodStatus {
                pod_ip: ip.into(),
                phase: "Running".into(),
                conditions: vec![ready],
                ..Default::default()
            }),
            ..Default::default()
        })
    }

    fn service() -> Service {
        let port = |name: &str, port: i32, target: IntOrString| ServicePort {
            name: name.into(),
            port,
            protocol: "TCP".into(),
            target_port: Some(target),
            ..Default::default()
        };
        Service {
            spec: Some(ServiceSpec {
                ports: vec![
                    port("http", 80, IntOrString::string("web")),
                    port("metrics", 9000, IntOrString::int(9100)),
                ],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn endpoint_port(name: &str, port: i32) -> EndpointPort {
        EndpointPort { name: name.into(), port, protocol: "TCP".into() }
    }

    fn ips(addresses: &[EndpointAddress]) -> Vec<&str> {
        addresses.iter().map(|address| address.ip.as_str()).collect()
    }

    #[test]
    fn pods_are_grouped_by_the_ports_they_resolve() {
        let pods = [
            pod("b", "10.0.0.2", false, Some(8080)),
            pod("a", "10.0.0.1", true, Some(8080)),
            pod("c", "10.0.0.3", true, Some(8081)),
            pod("no-web", "10.0.0.4", true, None),
            pod("no-ip", "", true, Some(8080)),
        ];
        let subsets = subsets(&service(), &pods);
        assert_eq!(subsets.len(), 3, "{subsets:#?}");
        assert_eq!(subsets[0].ports, [endpoint_port("http", 8080), endpoint_port("metrics", 9100)]);
        assert_eq!(ips(&subsets[0].addresses), ["10.0.0.1"]);
        assert_eq!(ips(&subsets[0].not_ready_addresses), ["10.0.0.2"]);
        assert_eq!(subsets[1].ports, [endpoint_port("http", 8081), endpoint_port("metrics", 9100)]);
        assert_eq!(ips(&subsets[1].addresses), ["10.0.0.3"]);
        assert_eq!(subsets[2].ports, [endpoint_port("metrics", 9100)]);
        assert_eq!(ips(&subsets[2].addresses), ["10.0.0.4"]);
        let address = &subsets[0].addresses[0];
        assert_eq!(address.node_name.as_deref(), Some("node-1"));
        let target = address.target_ref.as_ref().unwrap();
        assert_eq!((target.kind.as_str(), target.name.as_str(), target.uid.as_str()), ("Pod", "a", "uid-a"));
    }

    #[test]
    fn pods_being_deleted_or_finished_are_left_out() {
        let mut deleting = (*pod("deleting", "10.0.0.1", true, Some(8080))).clone();
        deleting.metadata_mut().deletion_timestamp = "2024-01-01T00:00:00Z".into();
        let mut finished = (*pod("finished", "10.0.0.2", true, Some(8080))).clone();
        finished.status.as_mut().unwrap().phase = "Succeeded".into();
        assert!(subsets(&service(), &[Arc::new(deleting), Arc::new(finished)]).is_empty());
    }

    #[test]
    fn a_service_without_ports_lists_addresses_only() {
        let subsets = subsets(&Service::default(), &[pod("a", "10.0.0.1", false, None)]);
        assert_eq!(subsets.len(), 1);
        assert!(subsets[0].ports.is_empty());
        assert_eq!(ips(&subsets[0].not_ready_addresses), ["10.0.0.1"]);
    }
}
