//! The proxier against the recording fakes: full and partial syncs, failure
//! recovery, UDP conntrack clearing and cleanup.

mod support;

use rk_proto::IntOrString;
use rk_proxy::applier::RecordingApplier;
use rk_proxy::dataplane::IptablesDataplane;
use rk_proxy::host::RecordingHost;
use rk_proxy::model::{service_ports, ServicePortInfo};
use rk_proxy::proxier::Proxier;
use std::sync::Arc;
use support::*;

fn ports(ready: &[&str]) -> Vec<ServicePortInfo> {
    let web = service("web", "10.96.0.10", "http", 80, IntOrString::int(8080));
    service_ports(&arcs(vec![web]), &arcs(vec![endpoints("web", "http", 8080, ready, &[])]))
}

fn proxier() -> (Proxier, Arc<RecordingApplier>, Arc<RecordingHost>) {
    let (iptables, host) = (Arc::new(RecordingApplier::default()), Arc::new(RecordingHost::default()));
    let dataplane = Box::new(IptablesDataplane::new(node(), iptables.clone()));
    (Proxier::new(node(), "10.96.0.0/16", dataplane, host.clone()), iptables, host)
}

#[test]
fn the_first_sync_routes_the_cidr_and_jumps_in_and_later_ones_write_only_changes() {
    let (mut proxier, iptables, host) = proxier();
    proxier.sync(&ports(&["10.244.0.5"])).unwrap();
    assert_eq!(*host.calls.lock().unwrap(), ["route 10.96.0.0/16 src 10.9.0.2", "route_localnet"]);
    let jumps = iptables.jumps.lock().unwrap().clone();
    assert!(jumps.contains(&("nat".into(), "OUTPUT".into(), "RK-SERVICES".into())), "{jumps:?}");
    assert!(jumps.contains(&("filter".into(), "INPUT".into(), "RK-SERVICES".into())), "{jumps:?}");
    assert_eq!(jumps.len(), 6);
    assert_eq!(proxier.sync(&ports(&["10.244.0.5"])).unwrap(), 0, "no change, no rules");
    assert_eq!(iptables.payloads.lock().unwrap().len(), 1);
    let written = proxier.sync(&ports(&["10.244.0.5", "10.244.0.6"])).unwrap();
    assert_eq!(written, 3 + 2, "the service chain (mark + 2 picks) and the new endpoint's chain");
    assert!(proxier.metrics.render().contains("rk_proxy_syncs_total 3\n"));
}

#[test]
fn a_failed_restore_makes_the_next_sync_full() {
    let (mut proxier, iptables, _) = proxier();
    proxier.sync(&ports(&["10.244.0.5"])).unwrap();
    *iptables.failures.lock().unwrap() = 1;
    assert!(proxier.sync(&ports(&["10.244.0.6"])).is_err());
    proxier.sync(&ports(&["10.244.0.6"])).unwrap();
    let last = iptables.payloads.lock().unwrap().last().unwrap().clone();
    assert!(last.contains(":RK-SERVICES - [0:0]") && last.contains(":RK-POSTROUTING - [0:0]"), "{last}");
    let chains = iptables.chains.lock().unwrap()["nat"].clone();
    let seps: Vec<&String> = chains.iter().filter(|c| c.starts_with("RK-SEP-")).collect();
    assert_eq!(seps, [&node().names.endpoint("default/web:http/tcp", "10.244.0.6:8080")], "the stale one is gone");
    assert!(proxier.metrics.render().contains("rk_proxy_sync_failures_total 1\n"));
}

#[test]
fn udp_flows_to_a_gone_endpoint_or_from_before_the_first_endpoint_are_cleared() {
    let (mut proxier, _, host) = proxier();
    let udp = |ready: &[&str]| {
        let mut dns = service("dns", "10.96.0.53", "dns", 53, IntOrString::int(53));
        dns.spec.as_mut().unwrap().ports[0].protocol = "UDP".into();
        let mut found = endpoints("dns", "dns", 53, ready, &[]);
        found.subsets[0].ports[0].protocol = "UDP".into();
        service_ports(&arcs(vec![dns]), &arcs(vec![found]))
    };
    proxier.sync(&udp(&[])).unwrap();
    assert!(!host.calls.lock().unwrap().iter().any(|call| call.starts_with("conntrack")), "nothing to clear yet");
    // Flows that began while nothing answered were never NATed: all of them go.
    proxier.sync(&udp(&["10.244.0.5", "10.244.0.6"])).unwrap();
    assert_eq!(host.calls.lock().unwrap().last().unwrap(), "conntrack 10.96.0.53 *");
    proxier.sync(&udp(&["10.244.0.6"])).unwrap();
    assert_eq!(host.calls.lock().unwrap().last().unwrap(), "conntrack 10.96.0.53 10.244.0.5");
    let calls = host.calls.lock().unwrap().len();
    proxier.sync(&udp(&["10.244.0.6"])).unwrap();
    assert_eq!(host.calls.lock().unwrap().len(), calls, "an unchanged Service clears nothing");
}

#[test]
fn cleanup_removes_jumps_chains_and_the_route() {
    let (mut proxier, iptables, host) = proxier();
    proxier.sync(&ports(&["10.244.0.5"])).unwrap();
    iptables.chains.lock().unwrap().entry("nat".into()).or_default().insert("DOCKER".into());
    proxier.cleanup().unwrap();
    assert!(iptables.jumps.lock().unwrap().is_empty());
    let chains = iptables.chains.lock().unwrap().clone();
    assert_eq!(chains["nat"], ["DOCKER".to_string()].into(), "only the foreign chain is left");
    assert!(chains["filter"].is_empty());
    assert_eq!(host.calls.lock().unwrap().last().unwrap(), "unroute 10.96.0.0/16");
}
