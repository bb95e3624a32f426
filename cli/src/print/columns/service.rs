//! Service columns: NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE, wide adds SELECTOR.

use super::{with_wide, Columns};
use crate::print::age::age;
use crate::print::format::{format_labels, or_none, protocol, NONE};
use chrono::{DateTime, Utc};
use rk_proto::v1::{Service, ServicePort, ServiceSpec};
use rk_proto::Resource;
use std::collections::BTreeSet;

/// kubectl cuts load-balancer addresses longer than this outside `-o wide`.
const LOAD_BALANCER_WIDTH: usize = 16;

/// The service type, defaulted as the API server does.
pub(crate) fn service_type(spec: &ServiceSpec) -> &str {
    if spec.r#type.is_empty() {
        "ClusterIP"
    } else {
        &spec.r#type
    }
}

/// PORT(S): `80/TCP`, or `80:30001/TCP` with a node port, joined by `,`; empty without ports.
pub fn service_ports(ports: &[ServicePort]) -> String {
    let pieces: Vec<String> = ports
        .iter()
        .map(|p| match p.node_port {
            0 => format!("{}/{}", p.port, protocol(&p.protocol)),
            node_port => format!("{}:{}/{}", p.port, node_port, protocol(&p.protocol)),
        })
        .collect();
    pieces.join(",")
}

/// EXTERNAL-IP: a LoadBalancer's ingress addresses (sorted, deduplicated) then its externalIPs,
/// `<pending>` while it has neither; other types show their externalIPs or `<none>`.
pub fn service_external_ip(service: &Service, wide: bool) -> String {
    let spec = service.spec.clone().unwrap_or_default();
    let external = spec.external_ips.join(",");
    match service_type(&spec) {
        "ClusterIP" | "NodePort" => or_none(&external),
        "LoadBalancer" => {
            let ingress = load_balancer_addresses(service, wide);
            let joined = [ingress, external].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(",");
            if joined.is_empty() {
                "<pending>".to_string()
            } else {
                joined
            }
        }
        _ => "<unknown>".to_string(),
    }
}

fn load_balancer_addresses(service: &Service, wide: bool) -> String {
    let ingress = service.status.as_ref().and_then(|s| s.load_balancer.as_ref()).map(|lb| lb.ingress.as_slice());
    let addresses: BTreeSet<&str> = ingress
        .unwrap_or_default()
        .iter()
        .map(|i| if i.ip.is_empty() { i.hostname.as_str() } else { i.ip.as_str() })
        .filter(|a| !a.is_empty())
        .collect();
    let joined = addresses.into_iter().collect::<Vec<_>>().join(",");
    if !wide && joined.chars().count() > LOAD_BALANCER_WIDTH {
        let cut: String = joined.chars().take(LOAD_BALANCER_WIDTH - 3).collect();
        return cut + "...";
    }
    joined
}

impl Columns for Service {
    fn headers(wide: bool) -> Vec<&'static str> {
        with_wide(vec!["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"], wide, || vec!["SELECTOR"])
    }

    fn row(&self, wide: bool, now: DateTime<Utc>) -> Vec<String> {
        let meta = self.metadata();
        let spec = self.spec.clone().unwrap_or_default();
        let ports = service_ports(&spec.ports);
        let normal = vec![
            meta.name.clone(),
            service_type(&spec).to_string(),
            or_none(&spec.cluster_ip),
            service_external_ip(self, wide),
            if ports.is_empty() { NONE.to_string() } else { ports },
            age(&meta.creation_timestamp, now),
        ];
        with_wide(normal, wide, || vec![format_labels(&spec.selector)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::v1::{LoadBalancerIngress, LoadBalancerStatus, ServiceStatus};

    fn port(port: i32, node_port: i32, protocol: &str) -> ServicePort {
        ServicePort { port, node_port, protocol: protocol.into(), ..Default::default() }
    }

    fn service(r#type: &str, external_ips: &[&str], ingress: &[(&str, &str)]) -> Service {
        let ingress = ingress
            .iter()
            .map(|(ip, hostname)| LoadBalancerIngress { ip: ip.to_string(), hostname: hostname.to_string() });
        Service {
            spec: Some(ServiceSpec {
                r#type: r#type.into(),
                external_ips: external_ips.iter().map(|s| s.to_string()).collect(),
                ..Default::default()
            }),
            status: Some(ServiceStatus { load_balancer: Some(LoadBalancerStatus { ingress: ingress.collect() }) }),
            ..Default::default()
        }
    }

    #[test]
    fn ports() {
        assert_eq!(service_ports(&[]), "");
        assert_eq!(service_ports(&[port(80, 0, "TCP")]), "80/TCP");
        assert_eq!(
            service_ports(&[port(80, 30001, "TCP"), port(53, 0, "UDP"), port(8080, 0, "")]),
            "80:30001/TCP,53/UDP,8080/TCP"
        );
    }

    #[test]
    fn external_ip_of_cluster_ip_and_node_port() {
        assert_eq!(service_external_ip(&service("ClusterIP", &[], &[]), false), "<none>");
        assert_eq!(service_external_ip(&service("", &[], &[]), false), "<none>");
        assert_eq!(service_external_ip(&service("NodePort", &["1.2.3.4", "5.6.7.8"], &[]), false), "1.2.3.4,5.6.7.8");
        assert_eq!(service_external_ip(&service("Weird", &[], &[]), false), "<unknown>");
    }

    #[test]
    fn external_ip_of_load_balancer() {
        assert_eq!(service_external_ip(&service("LoadBalancer", &[], &[]), false), "<pending>");
        let lb = service("LoadBalancer", &["9.9.9.9"], &[("10.0.0.2", ""), ("", "lb.example"), ("10.0.0.2", "")]);
        assert_eq!(service_external_ip(&lb, true), "10.0.0.2,lb.example,9.9.9.9");
        // Outside -o wide the ingress part is cut to 16 characters.
        assert_eq!(service_external_ip(&lb, false), "10.0.0.2,lb.e...,9.9.9.9");
        assert_eq!(service_external_ip(&service("LoadBalancer", &["9.9.9.9"], &[]), false), "9.9.9.9");
    }

    #[test]
    fn row() {
        let mut svc = service("NodePort", &[], &[]);
        let spec = svc.spec.as_mut().unwrap();
        spec.cluster_ip = "10.96.0.10".into();
        spec.ports = vec![port(80, 30080, "TCP")];
        spec.selector = [("app".to_string(), "web".to_string())].into();
        let row = svc.row(true, Utc::now());
        assert_eq!(row[1..5], ["NodePort", "10.96.0.10", "<none>", "80:30080/TCP"]);
        assert_eq!(row[6], "app=web");
        assert_eq!(Service::default().row(false, Utc::now())[1..5], ["ClusterIP", "<none>", "<none>", "<none>"]);
    }
}
