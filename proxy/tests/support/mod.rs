//! Services and Endpoints as the API holds them, for the payload tests.
#![allow(dead_code)]

use rk_proto::v1::*;
use rk_proto::IntOrString;
use rk_proxy::chains::ChainNames;
use rk_proxy::rules::NodeConfig;
use std::process::Command;
use std::sync::Arc;

pub fn node() -> NodeConfig {
    NodeConfig {
        names: ChainNames::new("RK").unwrap(),
        node_ips: vec!["10.9.0.2".into(), "127.0.0.1".into()],
        cluster_cidr: "10.244.0.0/16".into(),
    }
}

pub fn meta(name: &str) -> Option<ObjectMeta> {
    Some(ObjectMeta { name: name.into(), namespace: "default".into(), ..Default::default() })
}

/// A Service `name` on `ip` with one port (`port_name`, port, targetPort).
pub fn service(name: &str, ip: &str, port_name: &str, port: i32, target: IntOrString) -> Service {
    Service {
        metadata: meta(name),
        spec: Some(ServiceSpec {
            cluster_ip: ip.into(),
            ports: vec![ServicePort {
                name: port_name.into(),
                protocol: "TCP".into(),
                port,
                target_port: Some(target),
                node_port: 0,
            }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Endpoints of `name`: `ready` and `not_ready` IPs, one port (`port_name`, number).
pub fn endpoints(name: &str, port_name: &str, number: i32, ready: &[&str], not_ready: &[&str]) -> Endpoints {
    let address = |ip: &&str| EndpointAddress { ip: ip.to_string(), ..Default::default() };
    Endpoints {
        metadata: meta(name),
        subsets: vec![EndpointSubset {
            addresses: ready.iter().map(address).collect(),
            not_ready_addresses: not_ready.iter().map(address).collect(),
            ports: vec![EndpointPort { name: port_name.into(), port: number, protocol: "TCP".into() }],
        }],
        ..Default::default()
    }
}

pub fn arcs<T>(items: Vec<T>) -> Vec<Arc<T>> {
    items.into_iter().map(Arc::new).collect()
}

/// A throwaway network namespace with lo up and the node address support::node() names.
pub struct Netns(pub String);

impl Netns {
    pub fn new() -> Netns {
        let name = format!("rk-proxy-test-{}", std::process::id());
        let status = Command::new("ip").args(["netns", "add", &name]).status().unwrap();
        assert!(status.success(), "ip netns add {name}");
        Command::new("ip").args(["netns", "exec", &name, "ip", "link", "set", "lo", "up"]).status().unwrap();
        // The node address support::node() names, as the route's source.
        Command::new("ip")
            .args(["netns", "exec", &name, "ip", "addr", "add", "10.9.0.2/32", "dev", "lo"])
            .status()
            .unwrap();
        Netns(name)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}
