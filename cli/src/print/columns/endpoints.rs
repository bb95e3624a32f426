//! Endpoints columns: NAME ENDPOINTS AGE.

use super::Columns;
use crate::print::age::age;
use crate::print::format::NONE;
use chrono::{DateTime, Utc};
use rk_proto::v1::Endpoints;
use rk_proto::Resource;

/// How many addresses kubectl lists before summarising the rest.
const MAX_SHOWN: usize = 3;

/// ENDPOINTS: the first three ready `ip:port` pairs (bare IPs for a subset without ports),
/// then ` + N more...`; `<none>` without subsets. `port_name` keeps only that port, as
/// describe does per Service port.
pub fn format_endpoints(endpoints: &Endpoints, port_name: Option<&str>) -> String {
    if endpoints.subsets.is_empty() {
        return NONE.to_string();
    }
    let mut all = Vec::new();
    for subset in &endpoints.subsets {
        if subset.ports.is_empty() {
            // Headless services may have no ports.
            all.extend(subset.addresses.iter().map(|a| a.ip.clone()));
            continue;
        }
        for port in subset.ports.iter().filter(|p| port_name.is_none_or(|n| n == p.name)) {
            all.extend(subset.addresses.iter().map(|a| join_host_port(&a.ip, port.port)));
        }
    }
    let shown = all.iter().take(MAX_SHOWN).cloned().collect::<Vec<_>>().join(",");
    match all.len().checked_sub(MAX_SHOWN) {
        Some(more) if more > 0 => format!("{shown} + {more} more..."),
        _ => shown,
    }
}

/// Go's `net.JoinHostPort`: IPv6 addresses in brackets.
fn join_host_port(host: &str, port: i32) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

impl Columns for Endpoints {
    fn headers(_wide: bool) -> Vec<&'static str> {
        vec!["NAME", "ENDPOINTS", "AGE"]
    }

    fn row(&self, _wide: bool, now: DateTime<Utc>) -> Vec<String> {
        let meta = self.metadata();
        vec![meta.name.clone(), format_endpoints(self, None), age(&meta.creation_timestamp, now)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::v1::{EndpointAddress, EndpointPort, EndpointSubset};

    fn subset(ips: &[&str], ports: &[(&str, i32)]) -> EndpointSubset {
        EndpointSubset {
            addresses: ips.iter().map(|ip| EndpointAddress { ip: ip.to_string(), ..Default::default() }).collect(),
            ports: ports
                .iter()
                .map(|(name, port)| EndpointPort { name: name.to_string(), port: *port, ..Default::default() })
                .collect(),
            ..Default::default()
        }
    }

    fn endpoints(subsets: Vec<EndpointSubset>) -> Endpoints {
        Endpoints { subsets, ..Default::default() }
    }

    #[test]
    fn none_without_subsets() {
        assert_eq!(format_endpoints(&endpoints(vec![]), None), "<none>");
        // Subsets with only not-ready addresses print nothing, as in kubectl.
        assert_eq!(format_endpoints(&endpoints(vec![subset(&[], &[("", 80)])]), None), "");
    }

    #[test]
    fn up_to_three() {
        let ep = endpoints(vec![subset(&["10.0.0.1", "10.0.0.2"], &[("", 80)]), subset(&["fd00::1"], &[("", 80)])]);
        assert_eq!(format_endpoints(&ep, None), "10.0.0.1:80,10.0.0.2:80,[fd00::1]:80");
    }

    #[test]
    fn truncated_after_three() {
        let ep = endpoints(vec![subset(&["10.0.0.1", "10.0.0.2", "10.0.0.3"], &[("http", 80), ("https", 443)])]);
        assert_eq!(format_endpoints(&ep, None), "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 3 more...");
        assert_eq!(format_endpoints(&ep, Some("https")), "10.0.0.1:443,10.0.0.2:443,10.0.0.3:443");
    }

    #[test]
    fn headless_without_ports() {
        let ep = endpoints(vec![subset(&["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"], &[])]);
        assert_eq!(format_endpoints(&ep, None), "10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...");
    }
}
