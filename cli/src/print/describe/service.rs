//! `describe service`, with the endpoints behind each port.

use super::events::write_events;
use super::writer::Writer;
use super::{Describe, DescribeContext};
use crate::print::columns::format_endpoints;
use crate::print::format::{format_labels, protocol};
use rk_proto::v1::{Endpoints, Service};
use rk_proto::Resource;

impl Describe for Service {
    fn describe(&self, ctx: &DescribeContext<'_>) -> String {
        let spec = self.spec.clone().unwrap_or_default();
        let mut w = Writer::for_object(self);
        w.labels_and_annotations(self.metadata());
        w.line(0, format_args!("Selector:\t{}", format_labels(&spec.selector)));
        w.line(0, format_args!("Type:\t{}", crate::print::columns::service_type(&spec)));
        w.line(0, format_args!("IP:\t{}", spec.cluster_ip));
        if !spec.external_ips.is_empty() {
            w.line(0, format_args!("External IPs:\t{}", spec.external_ips.join(",")));
        }
        w.line_if_set(0, "LoadBalancer IP", &spec.load_balancer_ip);
        let ingress = self.status.as_ref().and_then(|s| s.load_balancer.as_ref()).map(|lb| lb.ingress.clone());
        let ingress: Vec<String> =
            ingress.unwrap_or_default().into_iter().map(|i| if i.ip.is_empty() { i.hostname } else { i.ip }).collect();
        if !ingress.is_empty() {
            w.line(0, format_args!("LoadBalancer Ingress:\t{}", ingress.join(", ")));
        }
        let no_endpoints = Endpoints::default();
        let endpoints = ctx.endpoints.unwrap_or(&no_endpoints);
        for port in &spec.ports {
            let name = if port.name.is_empty() { "<unset>" } else { &port.name };
            let proto = protocol(&port.protocol);
            w.line(0, format_args!("Port:\t{name}\t{}/{proto}", port.port));
            // An unset target port means the service port, as the API server defaults it.
            let target = port.target_port.as_ref().map_or_else(|| port.port.to_string(), |t| t.to_string());
            w.line(0, format_args!("TargetPort:\t{target}/{proto}"));
            if port.node_port != 0 {
                w.line(0, format_args!("NodePort:\t{name}\t{}/{proto}", port.node_port));
            }
            w.line(0, format_args!("Endpoints:\t{}", format_endpoints(endpoints, Some(&port.name))));
        }
        let affinity = if spec.session_affinity.is_empty() { "None" } else { &spec.session_affinity };
        w.line(0, format_args!("Session Affinity:\t{affinity}"));
        write_events(&mut w, ctx.events, ctx.now);
        w.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::v1::{EndpointAddress, EndpointPort, EndpointSubset, ObjectMeta, ServicePort, ServiceSpec};
    use rk_proto::IntOrString;

    #[test]
    fn ports_and_endpoints() {
        let svc = Service {
            metadata: Some(ObjectMeta { name: "web".into(), namespace: "default".into(), ..Default::default() }),
            spec: Some(ServiceSpec {
                r#type: "NodePort".into(),
                cluster_ip: "10.96.0.20".into(),
                selector: [("app".to_string(), "web".to_string())].into(),
                ports: vec![ServicePort {
                    name: "http".into(),
                    protocol: "TCP".into(),
                    port: 80,
                    target_port: Some(IntOrString::int(8080)),
                    node_port: 30080,
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        let endpoints = Endpoints {
            subsets: vec![EndpointSubset {
                addresses: vec![EndpointAddress { ip: "10.1.0.4".into(), ..Default::default() }],
                ports: vec![EndpointPort { name: "http".into(), port: 8080, protocol: "TCP".into() }],
                ..Default::default()
            }],
            ..Default::default()
        };
        let ctx =
            DescribeContext { endpoints: Some(&endpoints), ..crate::print::describe::bare_context(chrono::Utc::now()) };
        assert_eq!(
            svc.describe(&ctx),
            "Name:              web\n\
             Namespace:         default\n\
             Labels:            <none>\n\
             Annotations:       <none>\n\
             Selector:          app=web\n\
             Type:              NodePort\n\
             IP:                10.96.0.20\n\
             Port:              http  80/TCP\n\
             TargetPort:        8080/TCP\n\
             NodePort:          http  30080/TCP\n\
             Endpoints:         10.1.0.4:8080\n\
             Session Affinity:  None\n"
        );
        assert!(svc
            .describe(&crate::print::describe::bare_context(chrono::Utc::now()))
            .contains("Endpoints:         <none>\n"));
    }
}
