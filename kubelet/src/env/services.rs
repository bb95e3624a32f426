//! Service environment variables, the names and values Kubernetes writes
//! (pkg/kubelet/envvars): `{SVC}_SERVICE_HOST`, `{SVC}_SERVICE_PORT`,
//! `{SVC}_SERVICE_PORT_{NAME}` and Docker's link variables
//! `{SVC}_PORT`, `{SVC}_PORT_{port}_{PROTO}` with `_PROTO`, `_PORT`, `_ADDR`.

use rk_proto::v1::{Service, ServicePort};

/// The variables for `services`, in service name order. Services without a
/// cluster IP (headless "None", or not yet allocated) or without ports have none.
pub fn service_env(services: &[Service]) -> Vec<(String, String)> {
    let mut with_ip: Vec<(&str, &str, &[ServicePort])> = services
        .iter()
        .filter_map(|service| {
            let name = service.metadata.as_ref()?.name.as_str();
            let spec = service.spec.as_ref()?;
            let ip = spec.cluster_ip.as_str();
            (!ip.is_empty() && ip != "None" && !spec.ports.is_empty()).then_some((name, ip, spec.ports.as_slice()))
        })
        .collect();
    with_ip.sort_by_key(|(name, _, _)| *name);
    let mut env = Vec::new();
    for (name, ip, ports) in with_ip {
        push_service(&mut env, &variable_name(name), ip, ports);
    }
    env
}

fn push_service(env: &mut Vec<(String, String)>, prefix: &str, ip: &str, ports: &[ServicePort]) {
    let first = &ports[0];
    env.push((format!("{prefix}_SERVICE_HOST"), ip.to_string()));
    env.push((format!("{prefix}_SERVICE_PORT"), first.port.to_string()));
    for port in ports.iter().filter(|port| !port.name.is_empty()) {
        env.push((format!("{prefix}_SERVICE_PORT_{}", variable_name(&port.name)), port.port.to_string()));
    }
    // Docker links: the first port also gets the short name.
    env.push((format!("{prefix}_PORT"), link_url(ip, first)));
    for port in ports {
        let protocol = protocol(port);
        let port_prefix = format!("{prefix}_PORT_{}_{}", port.port, protocol.to_uppercase());
        env.push((port_prefix.clone(), link_url(ip, port)));
        env.push((format!("{port_prefix}_PROTO"), protocol.to_lowercase()));
        env.push((format!("{port_prefix}_PORT"), port.port.to_string()));
        env.push((format!("{port_prefix}_ADDR"), ip.to_string()));
    }
}

fn protocol(port: &ServicePort) -> &str {
    if port.protocol.is_empty() {
        "TCP"
    } else {
        &port.protocol
    }
}

fn link_url(ip: &str, port: &ServicePort) -> String {
    format!("{}://{ip}:{}", protocol(port).to_lowercase(), port.port)
}

/// `my-svc` → `MY_SVC`.
fn variable_name(name: &str) -> String {
    name.replace('-', "_").to_uppercase()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rk_proto::v1::{ObjectMeta, ServiceSpec};

    pub(crate) fn service(name: &str, ip: &str, ports: &[(&str, &str, i32)]) -> Service {
        Service {
            metadata: Some(ObjectMeta { name: name.into(), namespace: "default".into(), ..Default::default() }),
            spec: Some(ServiceSpec {
                cluster_ip: ip.into(),
                ports: ports
                    .iter()
                    .map(|(name, protocol, port)| ServicePort {
                        name: name.to_string(),
                        protocol: protocol.to_string(),
                        port: *port,
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn one_unnamed_port_gives_exactly_the_kubernetes_variables() {
        let env = service_env(&[service("redis-master", "10.0.0.11", &[("", "", 6379)])]);
        assert_eq!(
            env,
            pairs(&[
                ("REDIS_MASTER_SERVICE_HOST", "10.0.0.11"),
                ("REDIS_MASTER_SERVICE_PORT", "6379"),
                ("REDIS_MASTER_PORT", "tcp://10.0.0.11:6379"),
                ("REDIS_MASTER_PORT_6379_TCP", "tcp://10.0.0.11:6379"),
                ("REDIS_MASTER_PORT_6379_TCP_PROTO", "tcp"),
                ("REDIS_MASTER_PORT_6379_TCP_PORT", "6379"),
                ("REDIS_MASTER_PORT_6379_TCP_ADDR", "10.0.0.11"),
            ])
        );
    }

    #[test]
    fn named_ports_and_protocols() {
        let env = service_env(&[service("dns", "10.0.0.10", &[("dns-udp", "UDP", 53), ("metrics", "TCP", 9153)])]);
        assert_eq!(
            env,
            pairs(&[
                ("DNS_SERVICE_HOST", "10.0.0.10"),
                ("DNS_SERVICE_PORT", "53"),
                ("DNS_SERVICE_PORT_DNS_UDP", "53"),
                ("DNS_SERVICE_PORT_METRICS", "9153"),
                ("DNS_PORT", "udp://10.0.0.10:53"),
                ("DNS_PORT_53_UDP", "udp://10.0.0.10:53"),
                ("DNS_PORT_53_UDP_PROTO", "udp"),
                ("DNS_PORT_53_UDP_PORT", "53"),
                ("DNS_PORT_53_UDP_ADDR", "10.0.0.10"),
                ("DNS_PORT_9153_TCP", "tcp://10.0.0.10:9153"),
                ("DNS_PORT_9153_TCP_PROTO", "tcp"),
                ("DNS_PORT_9153_TCP_PORT", "9153"),
                ("DNS_PORT_9153_TCP_ADDR", "10.0.0.10"),
            ])
        );
    }

    #[test]
    fn services_without_a_cluster_ip_or_ports_are_skipped_and_the_rest_sorted() {
        let env = service_env(&[
            service("web", "10.0.0.20", &[("", "TCP", 80)]),
            service("headless", "None", &[("", "TCP", 80)]),
            service("pending", "", &[("", "TCP", 80)]),
            service("portless", "10.0.0.21", &[]),
            service("api", "10.0.0.22", &[("", "TCP", 443)]),
        ]);
        let hosts: Vec<&str> =
            env.iter().filter(|(k, _)| k.ends_with("_SERVICE_HOST")).map(|(k, _)| k.as_str()).collect();
        assert_eq!(hosts, vec!["API_SERVICE_HOST", "WEB_SERVICE_HOST"]);
    }
}
