//! `describe endpoints`.

use super::events::write_events;
use super::writer::Writer;
use super::{Describe, DescribeContext};
use crate::print::format::or_none;
use rk_proto::v1::{EndpointAddress, Endpoints};
use rk_proto::Resource;

impl Describe for Endpoints {
    fn describe(&self, ctx: &DescribeContext<'_>) -> String {
        let mut w = Writer::for_object(self);
        w.labels_and_annotations(self.metadata());
        w.line(0, format_args!("Subsets:"));
        for subset in &self.subsets {
            w.line(1, format_args!("Addresses:\t{}", ips(&subset.addresses)));
            w.line(1, format_args!("NotReadyAddresses:\t{}", ips(&subset.not_ready_addresses)));
            if !subset.ports.is_empty() {
                w.line(1, format_args!("Ports:"));
                w.line(2, format_args!("Name\tPort\tProtocol"));
                w.line(2, format_args!("----\t----\t--------"));
                for port in &subset.ports {
                    let name = if port.name.is_empty() { "<unset>" } else { &port.name };
                    w.line(2, format_args!("{name}\t{}\t{}", port.port, port.protocol));
                }
            }
            w.line(0, format_args!(""));
        }
        write_events(&mut w, ctx.events, ctx.now);
        w.finish()
    }
}

fn ips(addresses: &[EndpointAddress]) -> String {
    or_none(&addresses.iter().map(|a| a.ip.as_str()).collect::<Vec<_>>().join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::v1::{EndpointPort, EndpointSubset, ObjectMeta};

    #[test]
    fn subsets() {
        let address = |ip: &str| EndpointAddress { ip: ip.into(), ..Default::default() };
        let ep = Endpoints {
            metadata: Some(ObjectMeta { name: "web".into(), namespace: "default".into(), ..Default::default() }),
            subsets: vec![EndpointSubset {
                addresses: vec![address("10.1.0.4"), address("10.1.0.5")],
                not_ready_addresses: vec![],
                ports: vec![EndpointPort { name: "".into(), port: 80, protocol: "TCP".into() }],
            }],
            ..Default::default()
        };
        let events = [];
        let ctx = DescribeContext { events: Some(&events), ..crate::print::describe::bare_context(chrono::Utc::now()) };
        assert_eq!(
            ep.describe(&ctx),
            "Name:         web\n\
             Namespace:    default\n\
             Labels:       <none>\n\
             Annotations:  <none>\n\
             Subsets:\n\
             \x20 Addresses:          10.1.0.4,10.1.0.5\n\
             \x20 NotReadyAddresses:  <none>\n\
             \x20 Ports:\n\
             \x20   Name     Port  Protocol\n\
             \x20   ----     ----  --------\n\
             \x20   <unset>  80    TCP\n\
             \n\
             Events:  <none>\n"
        );
    }
}
