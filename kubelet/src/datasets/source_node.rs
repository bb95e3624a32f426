//! Where a source kubelet serves its datasets: the node's InternalIP and
//! its `status.daemonEndpoints.kubeletEndpoint.Port` (the streaming endpoint).

use rk_proto::v1::Node;

pub fn transfer_endpoint(node: &Node) -> Result<String, String> {
    let name = node.metadata.as_ref().map_or("", |m| m.name.as_str());
    let status = node.status.clone().unwrap_or_default();
    let ip = status
        .addresses
        .iter()
        .find(|a| a.r#type == "InternalIP")
        .and_then(|a| a.address.parse::<std::net::IpAddr>().ok())
        .ok_or_else(|| format!("node {name} has no InternalIP"))?;
    let port = status.daemon_endpoints.and_then(|d| d.kubelet_endpoint).map_or(0, |e| e.port);
    let port =
        u16::try_from(port).ok().filter(|p| *p > 0).ok_or_else(|| format!("node {name} reports no kubelet port"))?;
    Ok(format!("http://{}", std::net::SocketAddr::new(ip, port)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::v1::{DaemonEndpoint, NodeAddress, NodeDaemonEndpoints, NodeStatus};

    #[test]
    fn internal_ip_and_kubelet_port() {
        let mut node = Node {
            status: Some(NodeStatus {
                addresses: vec![NodeAddress { r#type: "InternalIP".into(), address: "10.0.0.2".into() }],
                daemon_endpoints: Some(NodeDaemonEndpoints { kubelet_endpoint: Some(DaemonEndpoint { port: 10250 }) }),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(transfer_endpoint(&node).unwrap(), "http://10.0.0.2:10250");
        node.status.as_mut().unwrap().daemon_endpoints = None;
        assert!(transfer_endpoint(&node).is_err());
    }
}
