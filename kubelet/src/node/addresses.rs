//! The Node's addresses: where the apiserver and other nodes reach it.

use super::NodeError;
use rk_proto::v1::NodeAddress;
use std::net::IpAddr;

const HOSTNAME: &str = "/proc/sys/kernel/hostname";

/// InternalIP (checked to be an IP address) and Hostname, in that order.
pub fn node_addresses(node_ip: &str, hostname: &str) -> Result<Vec<NodeAddress>, NodeError> {
    node_ip.parse::<IpAddr>().map_err(|_| NodeError::InvalidNodeIp(node_ip.to_string()))?;
    Ok(vec![
        NodeAddress { r#type: "InternalIP".into(), address: node_ip.to_string() },
        NodeAddress { r#type: "Hostname".into(), address: hostname.to_string() },
    ])
}

/// This machine's hostname.
pub fn hostname() -> Result<String, NodeError> {
    let name = std::fs::read_to_string(HOSTNAME).map_err(|e| NodeError::host(HOSTNAME, e))?;
    Ok(name.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_ip_then_hostname() {
        let addresses = node_addresses("10.1.2.3", "worker-1").unwrap();
        let pairs: Vec<_> = addresses.iter().map(|a| (a.r#type.as_str(), a.address.as_str())).collect();
        assert_eq!(pairs, [("InternalIP", "10.1.2.3"), ("Hostname", "worker-1")]);
        assert_eq!(node_addresses("fd00::1", "w").unwrap()[0].address, "fd00::1");
    }

    #[test]
    fn a_node_ip_that_is_no_address_is_refused() {
        let err = node_addresses("10.1.2", "worker-1").unwrap_err().to_string();
        assert!(err.contains("\"10.1.2\"") && err.contains("IP address"), "{err}");
    }

    #[test]
    fn the_hostname_is_read() {
        assert!(!hostname().unwrap().is_empty());
    }
}
