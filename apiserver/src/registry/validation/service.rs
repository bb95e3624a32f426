//! Services: ports, cluster IP, type and session affinity.

use super::common::{
    check_enum, check_ipv4, check_name, check_port, check_port_or_name, check_range, Errors, NameFormat, PROTOCOLS,
};
use super::meta::{validate_labels, validate_meta};
use crate::registry::field_error::FieldError;
use crate::registry::strategy::Strategy;
use rk_proto::v1::{Service, ServicePort, ServiceSpec};
use rk_proto::IntOrString;
use std::collections::HashSet;
use std::net::Ipv4Addr;

const TYPES: &[&str] = &["ClusterIP", "NodePort", "LoadBalancer"];
const SESSION_AFFINITIES: &[&str] = &["None", "ClientIP"];
/// Kubernetes' default for how long a client sticks to one endpoint: 3 hours.
const DEFAULT_CLIENT_IP_TIMEOUT: i32 = 10800;
const MAX_CLIENT_IP_TIMEOUT: i64 = 86400;
const TIMEOUT_PATH: &str = "spec.sessionAffinityConfig.clientIP.timeoutSeconds";

impl Strategy for Service {
    fn apply_defaults(&mut self) {
        let spec = self.spec.get_or_insert_with(Default::default);
        if spec.r#type.is_empty() {
            spec.r#type = "ClusterIP".into();
        }
        if spec.session_affinity.is_empty() {
            spec.session_affinity = "None".into();
        }
        if spec.session_affinity == "ClientIP" {
            let config = spec.session_affinity_config.get_or_insert_with(Default::default);
            config
                .client_ip
                .get_or_insert_with(Default::default)
                .timeout_seconds
                .get_or_insert(DEFAULT_CLIENT_IP_TIMEOUT);
        }
        for port in &mut spec.ports {
            if port.protocol.is_empty() {
                port.protocol = "TCP".into();
            }
            if port.target_port.as_ref().is_none_or(|target| target.int_val == 0 && target.str_val.is_empty()) {
                port.target_port = Some(IntOrString::int(port.port));
            }
        }
    }

    fn validate(&self) -> Vec<FieldError> {
        let mut errs = validate_meta(self, NameFormat::Dns1035Label);
        validate_spec(&mut errs, self.spec.as_ref().unwrap_or(&ServiceSpec::default()));
        errs
    }

    /// The registry copies the allocated cluster IP into an update that leaves
    /// it empty, so any difference here is an attempt to change it.
    fn validate_kind_update(&self, old: &Self, errs: &mut Errors) {
        let cluster_ip = |service: &Service| service.spec.as_ref().map(|s| s.cluster_ip.clone()).unwrap_or_default();
        let old_ip = cluster_ip(old);
        if !old_ip.is_empty() && cluster_ip(self) != old_ip {
            errs.push(FieldError::immutable("spec.clusterIP"));
        }
    }

    spec_and_status!();
}

fn validate_spec(errs: &mut Errors, spec: &ServiceSpec) {
    check_enum(errs, "spec.type", &spec.r#type, TYPES);
    let headless = spec.cluster_ip == "None";
    if spec.ports.is_empty() && !headless {
        errs.push(FieldError::new(
            "spec.ports",
            "Required value: a service needs at least one port unless clusterIP is None",
        ));
    }
    validate_ports(errs, spec);
    match spec.cluster_ip.as_str() {
        "" => {}
        "None" if spec.r#type != "ClusterIP" => errs.push(FieldError::invalid(
            "spec.clusterIP",
            "None",
            format!("may not be None for {} services", spec.r#type),
        )),
        "None" => {}
        ip if ip.parse::<Ipv4Addr>().is_err() => {
            errs.push(FieldError::invalid("spec.clusterIP", ip, "must be empty, None, or a valid IPv4 address"))
        }
        _ => {}
    }
    for (i, ip) in spec.external_ips.iter().enumerate() {
        check_ipv4(errs, &format!("spec.externalIPs[{i}]"), ip);
    }
    if !spec.load_balancer_ip.is_empty() {
        if spec.r#type != "LoadBalancer" {
            errs.push(FieldError::new("spec.loadBalancerIP", "Forbidden: may only be used when type is LoadBalancer"));
        }
        check_ipv4(errs, "spec.loadBalancerIP", &spec.load_balancer_ip);
    }
    validate_labels(errs, "spec.selector", &spec.selector);
    check_enum(errs, "spec.sessionAffinity", &spec.session_affinity, SESSION_AFFINITIES);
    let timeout =
        spec.session_affinity_config.as_ref().and_then(|c| c.client_ip.as_ref()).and_then(|c| c.timeout_seconds);
    match (spec.session_affinity.as_str(), timeout) {
        ("ClientIP", Some(timeout)) => check_range(errs, TIMEOUT_PATH, timeout.into(), 1, MAX_CLIENT_IP_TIMEOUT),
        ("ClientIP", None) => errs.push(FieldError::required(TIMEOUT_PATH)),
        (_, Some(timeout)) => {
            errs.push(FieldError::invalid(TIMEOUT_PATH, timeout, "may only be set when sessionAffinity is ClientIP"))
        }
        (_, None) => {}
    }
}

fn validate_ports(errs: &mut Errors, spec: &ServiceSpec) {
    let names_required = spec.ports.len() > 1;
    let mut names = HashSet::new();
    let mut ports = HashSet::new();
    let mut node_ports = HashSet::new();
    for (i, port) in spec.ports.iter().enumerate() {
        let path = format!("spec.ports[{i}]");
        // Endpoints and the proxy tell several ports apart by name.
        if !port.name.is_empty() || names_required {
            check_name(errs, &format!("{path}.name"), &port.name, NameFormat::Dns1123Label);
        }
        if !port.name.is_empty() && !names.insert(port.name.as_str()) {
            errs.push(FieldError::duplicate(format!("{path}.name"), &port.name));
        }
        check_enum(errs, &format!("{path}.protocol"), &port.protocol, PROTOCOLS);
        check_port(errs, &format!("{path}.port"), port.port);
        if !ports.insert((port.port, port.protocol.as_str())) {
            errs.push(FieldError::duplicate(&path, format!("{}/{}", port.port, port.protocol)));
        }
        check_port_or_name(errs, &format!("{path}.targetPort"), port.target_port.as_ref());
        validate_node_port(errs, &path, port, &spec.r#type, &mut node_ports);
    }
}

fn validate_node_port<'a>(
    errs: &mut Errors,
    path: &str,
    port: &'a ServicePort,
    service_type: &str,
    seen: &mut HashSet<(i32, &'a str)>,
) {
    if port.node_port == 0 {
        return;
    }
    let field = format!("{path}.nodePort");
    if service_type == "ClusterIP" {
        errs.push(FieldError::new(&field, "Forbidden: may not be used when type is ClusterIP"));
    }
    // Whether it lies in --service-node-port-range is for the node port allocator to say.
    check_port(errs, &field, port.node_port);
    if !seen.insert((port.node_port, port.protocol.as_str())) {
        errs.push(FieldError::duplicate(&field, port.node_port));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::validation::testing::{error_at, fields, web};
    use rk_proto::Resource;
    use serde_json::json;

    fn service(spec: serde_json::Value) -> Service {
        web("Service", "spec", spec)
    }

    #[test]
    fn defaults_are_filled() {
        let svc = service(json!({"selector": {"app": "web"}, "sessionAffinity": "ClientIP", "ports": [
            {"port": 80}, {"port": 443, "targetPort": "https", "protocol": "TCP"}
        ]}));
        let spec = svc.spec.as_ref().unwrap();
        assert_eq!(spec.r#type, "ClusterIP");
        let timeout = spec.session_affinity_config.as_ref().unwrap().client_ip.as_ref().unwrap().timeout_seconds;
        assert_eq!(timeout, Some(10800));
        assert_eq!(spec.ports[0].protocol, "TCP");
        assert_eq!(spec.ports[0].target_port, Some(IntOrString::int(80)));
        assert_eq!(spec.ports[1].target_port, Some(IntOrString::string("https")));
        assert_eq!(service(json!({})).spec.unwrap().session_affinity, "None");
    }

    #[test]
    fn valid_services_pass() {
        let svc = service(json!({"type": "NodePort", "selector": {"app": "web"}, "clusterIP": "10.0.0.10",
        "externalIPs": ["192.168.1.5"], "ports": [
            {"name": "http", "port": 80, "targetPort": 8080, "nodePort": 30080},
            {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": "dns"}
        ]}));
        assert_eq!(svc.validate(), []);
        assert_eq!(service(json!({"clusterIP": "None", "selector": {"app": "db"}})).validate(), []);
        let lb = service(json!({"type": "LoadBalancer", "loadBalancerIP": "203.0.113.7", "ports": [{"port": 443}]}));
        assert_eq!(lb.validate(), []);
    }

    #[test]
    fn every_port_problem_is_reported() {
        let svc = service(json!({"ports": [
            {"port": 0, "protocol": "ICMP", "targetPort": "Web_Port", "nodePort": 70000},
            {"name": "http", "port": 80, "targetPort": 70000},
            {"name": "http", "port": 80}
        ]}));
        let errs = svc.validate();
        assert_eq!(
            fields(&errs),
            [
                "spec.ports[0].name",
                "spec.ports[0].protocol",
                "spec.ports[0].port",
                "spec.ports[0].targetPort",
                "spec.ports[0].nodePort",
                "spec.ports[0].nodePort",
                "spec.ports[1].targetPort",
                "spec.ports[2].name",
                "spec.ports[2]"
            ]
        );
        assert_eq!(errs[0].message, "Required value");
        assert!(errs[4].message.contains("may not be used when type is ClusterIP"));
        assert!(errs[5].message.contains("between 1 and 65535"));
        assert_eq!(errs[8].message, "Duplicate value: \"80/TCP\"");
    }

    #[test]
    fn spec_level_problems() {
        let mut svc = service(json!({"type": "External", "clusterIP": "10.0.0.300", "externalIPs": ["x"],
            "loadBalancerIP": "1.2.3.4", "sessionAffinity": "ClientIP",
            "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 90000}}}));
        svc.metadata_mut().name = "1web".into();
        let errs = svc.validate();
        assert_eq!(
            fields(&errs),
            [
                "metadata.name",
                "spec.type",
                "spec.ports",
                "spec.clusterIP",
                "spec.externalIPs[0]",
                "spec.loadBalancerIP",
                TIMEOUT_PATH
            ]
        );
        assert!(errs[1].message.contains("\"ClusterIP\", \"NodePort\", \"LoadBalancer\""));
        assert!(errs[3].message.contains("must be empty, None, or a valid IPv4 address"));
        assert!(errs[6].message.contains("between 1 and 86400"));
    }

    #[test]
    fn headless_needs_cluster_ip_type_and_timeouts_need_client_ip() {
        let errs = service(json!({"type": "NodePort", "clusterIP": "None", "sessionAffinityConfig":
            {"clientIP": {"timeoutSeconds": 60}}}))
        .validate();
        assert_eq!(fields(&errs), ["spec.clusterIP", TIMEOUT_PATH]);
        assert!(errs[0].message.contains("may not be None for NodePort services"));
    }

    #[test]
    fn cluster_ip_is_immutable_once_set() {
        let old = service(json!({"clusterIP": "10.0.0.10", "ports": [{"port": 80}]}));
        let mut new = old.clone();
        new.spec.as_mut().unwrap().ports[0].port = 81;
        assert_eq!(new.validate_update(&old), []);
        assert!(new.spec_changed(&old));
        new.spec.as_mut().unwrap().cluster_ip = "10.0.0.11".into();
        assert_eq!(error_at(&new.validate_update(&old), "spec.clusterIP").message, "field is immutable");
        let unallocated = service(json!({"ports": [{"port": 80}]}));
        assert_eq!(new.validate_update(&unallocated), []);
    }
}
