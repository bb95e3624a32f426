//! What the rules are made from: each port of each Service with its ready
//! endpoints, resolved from the API objects.

use rk_proto::v1::{Endpoints, Service};
use std::collections::HashMap;
use std::sync::Arc;

/// Kubernetes' default ClientIP affinity timeout (3 hours).
pub const DEFAULT_AFFINITY_SECONDS: i32 = 10800;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    /// The API's protocol (empty means TCP); None for protocols rk-proxy does not serve.
    pub fn parse(text: &str) -> Option<Protocol> {
        match text {
            "" | "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// One endpoint a service port forwards to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Endpoint {
    pub ip: String,
    pub port: i32,
}

impl Endpoint {
    pub fn address(&self) -> String {
        format!("{}:{}", self.ip, self.port)
    }
}

/// One port of one Service, ready to turn into rules.
#[derive(Debug, Clone, PartialEq)]
pub struct ServicePortInfo {
    /// `namespace/name:port-name/PROTOCOL`: names the port's chains.
    pub key: String,
    pub protocol: Protocol,
    pub cluster_ip: String,
    pub port: i32,
    /// 0 when the Service has no node port.
    pub node_port: i32,
    /// spec.externalIPs and status.loadBalancer.ingress[].ip.
    pub external_ips: Vec<String>,
    /// ClientIP affinity timeout in seconds, when the Service asks for it.
    pub affinity_seconds: Option<i32>,
    /// Ready endpoints, sorted.
    pub endpoints: Vec<Endpoint>,
}

/// Every service port rk-proxy serves, sorted by key. Headless Services and
/// ports with protocols other than TCP and UDP are left out.
pub fn service_ports(services: &[Arc<Service>], endpoints: &[Arc<Endpoints>]) -> Vec<ServicePortInfo> {
    let by_key: HashMap<(String, String), &Endpoints> = endpoints
        .iter()
        .map(|e| {
            let meta = e.metadata.clone().unwrap_or_default();
            ((meta.namespace, meta.name), e.as_ref())
        })
        .collect();
    let mut ports: Vec<ServicePortInfo> = services
        .iter()
        .flat_map(|service| {
            let meta = service.metadata.clone().unwrap_or_default();
            let found = by_key.get(&(meta.namespace.clone(), meta.name.clone())).copied();
            ports_of(service, found)
        })
        .collect();
    ports.sort_by(|a, b| a.key.cmp(&b.key));
    ports
}

fn ports_of(service: &Service, endpoints: Option<&Endpoints>) -> Vec<ServicePortInfo> {
    let meta = service.metadata.clone().unwrap_or_default();
    let spec = service.spec.clone().unwrap_or_default();
    if spec.cluster_ip.is_empty() || spec.cluster_ip == "None" {
        return Vec::new();
    }
    let mut external_ips = spec.external_ips.clone();
    let ingress = service.status.as_ref().and_then(|s| s.load_balancer.as_ref()).map(|lb| lb.ingress.as_slice());
    external_ips.extend(ingress.unwrap_or_default().iter().filter(|i| !i.ip.is_empty()).map(|i| i.ip.clone()));
    let affinity_seconds = (spec.session_affinity == "ClientIP").then(|| {
        let config = spec.session_affinity_config.as_ref().and_then(|c| c.client_ip.as_ref());
        config.and_then(|c| c.timeout_seconds).unwrap_or(DEFAULT_AFFINITY_SECONDS)
    });
    spec.ports
        .iter()
        .filter_map(|port| {
            let protocol = Protocol::parse(&port.protocol)?;
            Some(ServicePortInfo {
                key: format!("{}/{}:{}/{}", meta.namespace, meta.name, port.name, protocol.as_str()),
                protocol,
                cluster_ip: spec.cluster_ip.clone(),
                port: port.port,
                node_port: port.node_port,
                external_ips: external_ips.clone(),
                affinity_seconds,
                endpoints: ready_endpoints(endpoints, &port.name, protocol),
            })
        })
        .collect()
}

/// The ready addresses of the subsets that carry the port named like the
/// service port: the endpoints controller has already resolved a named
/// targetPort to each pod's number there.
fn ready_endpoints(endpoints: Option<&Endpoints>, port_name: &str, protocol: Protocol) -> Vec<Endpoint> {
    let mut found: Vec<Endpoint> = endpoints
        .map(|e| e.subsets.as_slice())
        .unwrap_or_default()
        .iter()
        .flat_map(|subset| {
            let port =
                subset.ports.iter().find(|p| p.name == port_name && Protocol::parse(&p.protocol) == Some(protocol));
            port.into_iter().flat_map(|port| {
                subset.addresses.iter().map(|address| Endpoint { ip: address.ip.clone(), port: port.port })
            })
        })
        .collect();
    found.sort();
    found.dedup();
    found
}
