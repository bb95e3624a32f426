//! Where a logs or exec call goes: which container of the pod, and the
//! address of the kubelet on the pod's node.

use crate::ApiError;
use rk_proto::v1::{Node, Pod};
use std::net::{IpAddr, SocketAddr};

/// The container named in the call, or the pod's first one (as kubectl does) when none is.
pub fn choose_container(pod: &Pod, requested: &str) -> Result<String, ApiError> {
    let name = pod.metadata.as_ref().map_or("", |m| m.name.as_str());
    let names: Vec<&str> =
        pod.spec.iter().flat_map(|spec| &spec.containers).map(|container| container.name.as_str()).collect();
    if requested.is_empty() {
        let first = names.first().ok_or_else(|| ApiError::BadRequest(format!("pod \"{name}\" has no containers")))?;
        if names.len() > 1 {
            tracing::info!(pod = name, container = first, "defaulted container {first:?} out of: {}", names.join(", "));
        }
        return Ok(first.to_string());
    }
    if names.contains(&requested) {
        Ok(requested.to_string())
    } else {
        Err(ApiError::BadRequest(format!(
            "container \"{requested}\" is not in pod \"{name}\"; its containers are: {}",
            names.join(", ")
        )))
    }
}

/// The kubelet's streaming endpoint: the node's InternalIP and its
/// `status.daemonEndpoints.kubeletEndpoint.Port`.
pub fn kubelet_address(node: &Node) -> Result<SocketAddr, ApiError> {
    let name = node.metadata.as_ref().map_or("", |m| m.name.as_str());
    let status = node.status.clone().unwrap_or_default();
    let internal_ip = status.addresses.iter().find(|a| a.r#type == "InternalIP").ok_or_else(|| {
        ApiError::FailedPrecondition(format!(
            "node \"{name}\" has no InternalIP in status.addresses, so its kubelet cannot be reached"
        ))
    })?;
    let ip: IpAddr = internal_ip.address.parse().map_err(|_| {
        ApiError::FailedPrecondition(format!(
            "node \"{name}\" has InternalIP {:?}, which is not an IP address",
            internal_ip.address
        ))
    })?;
    let port = status.daemon_endpoints.and_then(|d| d.kubelet_endpoint).map_or(0, |e| e.port);
    let port = u16::try_from(port).ok().filter(|p| *p > 0).ok_or_else(|| {
        ApiError::FailedPrecondition(format!(
            "node \"{name}\" reports no kubelet endpoint (status.daemonEndpoints.kubeletEndpoint.Port is {port}); \
             is its kubelet running?"
        ))
    })?;
    Ok(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::v1::*;

    fn pod(containers: &[&str]) -> Pod {
        Pod {
            metadata: Some(ObjectMeta { name: "web".into(), ..Default::default() }),
            spec: Some(PodSpec {
                containers: containers
                    .iter()
                    .map(|n| Container { name: n.to_string(), ..Default::default() })
                    .collect(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn node(addresses: &[(&str, &str)], port: Option<i32>) -> Node {
        Node {
            metadata: Some(ObjectMeta { name: "n1".into(), ..Default::default() }),
            status: Some(NodeStatus {
                addresses: addresses
                    .iter()
                    .map(|(t, a)| NodeAddress { r#type: t.to_string(), address: a.to_string() })
                    .collect(),
                daemon_endpoints: port
                    .map(|port| NodeDaemonEndpoints { kubelet_endpoint: Some(DaemonEndpoint { port }) }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn the_first_container_is_the_default_and_unknown_names_list_the_choices() {
        assert_eq!(choose_container(&pod(&["app"]), "").unwrap(), "app");
        assert_eq!(choose_container(&pod(&["app", "db"]), "").unwrap(), "app");
        assert_eq!(choose_container(&pod(&["app", "db"]), "db").unwrap(), "db");
        let unknown = choose_container(&pod(&["app", "db"]), "cache").unwrap_err();
        assert_eq!(unknown.to_string(), "container \"cache\" is not in pod \"web\"; its containers are: app, db");
        assert_eq!(unknown.code(), tonic::Code::InvalidArgument);
    }

    #[test]
    fn the_kubelet_is_at_the_internal_ip_and_the_published_port() {
        let both = node(&[("Hostname", "n1"), ("InternalIP", "10.1.0.5")], Some(10250));
        assert_eq!(kubelet_address(&both).unwrap().to_string(), "10.1.0.5:10250");
        let v6 = node(&[("InternalIP", "fd00::5")], Some(10250));
        assert_eq!(kubelet_address(&v6).unwrap().to_string(), "[fd00::5]:10250");

        let no_ip = kubelet_address(&node(&[("Hostname", "n1")], Some(10250))).unwrap_err();
        assert!(no_ip.to_string().contains("node \"n1\" has no InternalIP"), "{no_ip}");
        let bad_ip = kubelet_address(&node(&[("InternalIP", "n1.local")], Some(10250))).unwrap_err();
        assert!(bad_ip.to_string().contains("not an IP address"), "{bad_ip}");
        for port in [None, Some(0), Some(70000)] {
            let error = kubelet_address(&node(&[("InternalIP", "10.1.0.5")], port)).unwrap_err();
            assert_eq!(error.code(), tonic::Code::FailedPrecondition);
            assert!(error.to_string().contains("reports no kubelet endpoint"), "{error}");
        }
    }
}
