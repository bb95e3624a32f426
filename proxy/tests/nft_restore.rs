//! The real nft accepts the scripts (full, incremental, a full resync over an
//! existing table) in a throwaway network namespace; cleanup leaves nothing.

mod support;

use rk_proto::IntOrString;
use rk_proxy::command::Runner;
use rk_proxy::host::Host;
use rk_proxy::model::service_ports;
use rk_proxy::nft::applier::Nft;
use rk_proxy::nft::ruleset::Layout;
use rk_proxy::nft::NftDataplane;
use rk_proxy::proxier::Proxier;
use std::sync::Arc;
use support::*;

#[test]
fn nft_accepts_every_kind_of_rule_and_cleanup_leaves_nothing() {
    let netns = Netns::new();
    let runner = Runner::in_netns(&netns.0);
    let layout = Layout { node: node(), service_cidr: "10.96.0.0/16".into() };
    let dataplane = Box::new(NftDataplane::new(layout, Arc::new(Nft { runner: runner.clone() })));
    let mut proxier = Proxier::new(node(), "10.96.0.0/16", dataplane, Arc::new(Host { runner: runner.clone() }));
    let mut web = service("web", "10.96.0.10", "http", 80, IntOrString::int(8080));
    let spec = web.spec.as_mut().unwrap();
    spec.ports[0].node_port = 30001;
    spec.external_ips = vec!["10.50.0.1".into()];
    let mut sticky = service("sticky", "10.96.0.12", "http", 80, IntOrString::int(8080));
    sticky.spec.as_mut().unwrap().session_affinity = "ClientIP".into();
    let mut dns = service("dns", "10.96.0.53", "dns", 53, IntOrString::int(53));
    dns.spec.as_mut().unwrap().ports[0].protocol = "UDP".into();
    let mut empty = service("empty", "10.96.0.11", "http", 80, IntOrString::int(8080));
    empty.spec.as_mut().unwrap().ports[0].node_port = 30002;
    let services = arcs(vec![web, sticky, dns, empty]);
    let api = |ready: &[&str]| {
        let mut udp = endpoints("dns", "dns", 53, ready, &[]);
        udp.subsets[0].ports[0].protocol = "UDP".into();
        let found =
            vec![endpoints("web", "http", 8080, ready, &[]), endpoints("sticky", "http", 8080, ready, &[]), udp];
        service_ports(&services, &arcs(found))
    };
    proxier.sync(&api(&["10.244.0.5", "10.244.0.6"])).unwrap();
    let listed = runner.run("nft", &["list", "table", "ip", "rk"], None).unwrap();
    for expected in [
        "meta l4proto tcp dnat ip to numgen random mod 2 offset 4096 map @tcp-endpoints-1",
        "10.96.0.10 . tcp . 80 : goto svc-",
        "10.96.0.11 . tcp . 80 : goto reject-chain",
        "tcp . 30002 : goto reject-chain",
        "timeout 3h",
        "meta l4proto udp dnat ip to numgen random mod 2",
    ] {
        assert!(listed.contains(expected), "no {expected:?} in\n{listed}");
    }
    let routes = runner.run("ip", &["route", "show", "table", "local"], None).unwrap();
    assert!(routes.contains("local 10.96.0.0/16 dev lo"), "{routes}");

    // One endpoint replaced, then one added (the chains change), then a full resync over it all.
    proxier.sync(&api(&["10.244.0.5", "10.244.0.7"])).unwrap();
    proxier.sync(&api(&["10.244.0.5", "10.244.0.7", "10.244.0.8"])).unwrap();
    proxier.request_full_sync();
    proxier.sync(&api(&["10.244.0.7"])).unwrap();
    let listed = runner.run("nft", &["list", "table", "ip", "rk"], None).unwrap();
    assert!(listed.contains("4096 : 10.244.0.7 . 8080") && !listed.contains("10.244.0.5 . 8080"), "{listed}");
    assert_eq!(listed.matches("chain sep-").count(), 1, "stale endpoint chains are gone:\n{listed}");
    assert_eq!(listed.matches("set affinity-").count(), 1, "stale affinity sets are gone:\n{listed}");

    proxier.cleanup().unwrap();
    let tables = runner.run("nft", &["list", "tables"], None).unwrap();
    assert!(!tables.contains("rk"), "{tables}");
    let routes = runner.run("ip", &["route", "show", "table", "local"], None).unwrap();
    assert!(!routes.contains("10.96.0.0/16"), "{routes}");
}
