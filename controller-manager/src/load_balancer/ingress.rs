//! What a Service says about load balancing: whether it wants an address,
//! and which its status gives it.

use rk_proto::v1::{LoadBalancerIngress, LoadBalancerStatus, Service};
use std::net::Ipv4Addr;

pub const LOAD_BALANCER: &str = "LoadBalancer";

pub fn is_load_balancer(service: &Service) -> bool {
    service.spec.as_ref().is_some_and(|spec| spec.r#type == LOAD_BALANCER)
}

/// The address the Service asks for in spec.loadBalancerIP ("" for any).
pub fn requested(service: &Service) -> &str {
    service.spec.as_ref().map_or("", |spec| spec.load_balancer_ip.as_str())
}

/// The IPv4 addresses in status.loadBalancer.ingress, in order; hostnames are not ours.
pub fn ingress_ips(service: &Service) -> Vec<Ipv4Addr> {
    let ingress = service.status.as_ref().and_then(|status| status.load_balancer.as_ref());
    ingress.map_or_else(Vec::new, |lb| lb.ingress.iter().filter_map(|entry| entry.ip.parse().ok()).collect())
}

/// The addresses a LoadBalancer Service holds; other Services hold none, whatever their status says.
pub fn held(service: &Service) -> Vec<Ipv4Addr> {
    if is_load_balancer(service) {
        ingress_ips(service)
    } else {
        Vec::new()
    }
}

/// A copy of the Service whose status.loadBalancer.ingress lists exactly `ips`.
pub fn with_ingress(service: &Service, ips: &[Ipv4Addr]) -> Service {
    let mut updated = service.clone();
    let ingress = ips.iter().map(|ip| LoadBalancerIngress { ip: ip.to_string(), hostname: String::new() }).collect();
    updated.status.get_or_insert_with(Default::default).load_balancer = Some(LoadBalancerStatus { ingress });
    updated
}
