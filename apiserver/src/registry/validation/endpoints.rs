//! Endpoints: the addresses and ports behind a service, written by the
//! endpoints controller (or by hand for a service without a selector).

use super::common::{check_enum, check_ipv4, check_name, check_port, Errors, NameFormat, PROTOCOLS};
use super::meta::validate_meta;
use crate::registry::field_error::FieldError;
use crate::registry::strategy::Strategy;
use rk_proto::v1::{EndpointAddress, EndpointSubset, Endpoints};
use std::collections::HashSet;

impl Strategy for Endpoints {
    fn apply_defaults(&mut self) {
        for port in self.subsets.iter_mut().flat_map(|subset| &mut subset.ports) {
            if port.protocol.is_empty() {
                port.protocol = "TCP".into();
            }
        }
    }

    fn validate(&self) -> Vec<FieldError> {
        let mut errs = validate_meta(self, NameFormat::Dns1123Subdomain);
        for (i, subset) in self.subsets.iter().enumerate() {
            validate_subset(&mut errs, &format!("subsets[{i}]"), subset);
        }
        errs
    }

    // The subsets play the spec. Endpoints have no status, so there is no
    // status to keep, nor a status update to keep the subsets from.
    spec_and_status!(spec: subsets, no status);
}

fn validate_subset(errs: &mut Errors, path: &str, subset: &EndpointSubset) {
    if subset.addresses.is_empty() && subset.not_ready_addresses.is_empty() {
        errs.push(FieldError::new(path, "Required value: must specify addresses or notReadyAddresses"));
    }
    for (list, addresses) in [("addresses", &subset.addresses), ("notReadyAddresses", &subset.not_ready_addresses)] {
        for (i, address) in addresses.iter().enumerate() {
            validate_address(errs, &format!("{path}.{list}[{i}]"), address);
        }
    }
    // A headless service without ports has endpoints without ports; with
    // several, the proxy matches them to service ports by name.
    let names_required = subset.ports.len() > 1;
    let mut names = HashSet::new();
    for (i, port) in subset.ports.iter().enumerate() {
        let path = format!("{path}.ports[{i}]");
        if !port.name.is_empty() || names_required {
            check_name(errs, &format!("{path}.name"), &port.name, NameFormat::Dns1123Label);
        }
        if !port.name.is_empty() && !names.insert(port.name.as_str()) {
            errs.push(FieldError::duplicate(format!("{path}.name"), &port.name));
        }
        check_port(errs, &format!("{path}.port"), port.port);
        check_enum(errs, &format!("{path}.protocol"), &port.protocol, PROTOCOLS);
    }
}

fn validate_address(errs: &mut Errors, path: &str, address: &EndpointAddress) {
    let field = format!("{path}.ip");
    // Traffic DNAT-ed to these addresses would stay on whichever node forwards it.
    if let Some(ip) = check_ipv4(errs, &field, &address.ip) {
        let link_local_multicast = ip.octets()[..3] == [224, 0, 0];
        if ip.is_unspecified() || ip.is_loopback() || ip.is_link_local() || link_local_multicast {
            errs.push(FieldError::invalid(
                &field,
                ip,
                "may not be unspecified (0.0.0.0), loopback (127.0.0.0/8) or link-local (169.254.0.0/16, 224.0.0.0/24)",
            ));
        }
    }
    if !address.hostname.is_empty() {
        check_name(errs, &format!("{path}.hostname"), &address.hostname, NameFormat::Dns1123Label);
    }
    if let Some(node_name) = address.node_name.as_deref().filter(|name| !name.is_empty()) {
        check_name(errs, &format!("{path}.nodeName"), node_name, NameFormat::Dns1123Subdomain);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::validation::testing::{fields, web};
    use serde_json::json;

    fn endpoints(subsets: serde_json::Value) -> Endpoints {
        web("Endpoints", "subsets", subsets)
    }

    #[test]
    fn valid_endpoints_pass_and_ports_default_to_tcp() {
        let ep = endpoints(json!([{
            "addresses": [{"ip": "10.244.1.5", "nodeName": "node-1", "hostname": "web-0",
                           "targetRef": {"kind": "Pod", "name": "web-0", "namespace": "default"}}],
            "notReadyAddresses": [{"ip": "10.244.2.7"}],
            "ports": [{"name": "http", "port": 8080}, {"name": "dns", "port": 53, "protocol": "UDP"}]
        }, {"addresses": [{"ip": "10.244.3.2"}]}]));
        assert_eq!(ep.subsets[0].ports[0].protocol, "TCP");
        assert_eq!(ep.validate(), []);
        assert_eq!(endpoints(json!([])).validate(), []);
    }

    #[test]
    fn every_problem_is_reported() {
        let ep = endpoints(json!([
            {"addresses": [{"ip": "10.0.0"}, {"ip": "127.0.0.1", "hostname": "A_B"}],
             "notReadyAddresses": [{"ip": "169.254.1.1", "nodeName": "Node_1"}],
             "ports": [{"name": "http", "port": 0, "protocol": "ICMP"}, {"port": 80}, {"name": "http", "port": 81}]},
            {"ports": [{"port": 80}]}
        ]));
        let errs = ep.validate();
        assert_eq!(
            fields(&errs),
            [
                "subsets[0].addresses[0].ip",
                "subsets[0].addresses[1].ip",
                "subsets[0].addresses[1].hostname",
                "subsets[0].notReadyAddresses[0].ip",
                "subsets[0].notReadyAddresses[0].nodeName",
                "subsets[0].ports[0].port",
                "subsets[0].ports[0].protocol",
                "subsets[0].ports[1].name",
                "subsets[0].ports[2].name",
                "subsets[1]"
            ]
        );
        assert!(errs[1].message.contains("loopback"));
        assert!(errs[5].message.contains("between 1 and 65535"));
        assert!(errs[9].message.contains("must specify addresses or notReadyAddresses"));
    }

    #[test]
    fn changes_are_changes_of_subsets() {
        let old = endpoints(json!([{"addresses": [{"ip": "10.244.1.5"}], "ports": [{"port": 80}]}]));
        let mut new = old.clone();
        assert!(!new.spec_changed(&old));
        new.subsets[0].addresses[0].ip = "10.244.1.6".into();
        assert!(new.spec_changed(&old));
        assert_eq!(new.validate_update(&old), []);
        new.metadata.as_mut().unwrap().namespace = "other".into();
        assert_eq!(fields(&new.validate_update(&old)), ["metadata.namespace"]);
    }
}
