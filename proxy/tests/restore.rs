//! The real iptables-restore accepts the payloads, in a throwaway network
//! namespace so the machine's own tables are untouched.

mod support;

use rk_proto::IntOrString;
use rk_proxy::applier::{Backend, Iptables, IptablesApplier};
use rk_proxy::command::Runner;
use rk_proxy::dataplane::IptablesDataplane;
use rk_proxy::host::Host;
use rk_proxy::model::service_ports;
use rk_proxy::proxier::Proxier;
use std::sync::Arc;
use support::*;

#[test]
fn iptables_accepts_every_kind_of_rule_and_cleanup_leaves_nothing() {
    let netns = Netns::new();
    let runner = Runner::in_netns(&netns.0);
    let iptables = Arc::new(Iptables { runner: runner.clone(), backend: Backend::System });
    let dataplane = Box::new(IptablesDataplane::new(node(), iptables.clone()));
    let mut proxier = Proxier::new(node(), "10.96.0.0/16", dataplane, Arc::new(Host { runner: runner.clone() }));
    let mut web = service("web", "10.96.0.10", "http", 80, IntOrString::int(8080));
    let spec = web.spec.as_mut().unwrap();
    spec.ports[0].node_port = 30001;
    spec.external_ips = vec!["10.50.0.1".into()];
    spec.session_affinity = "ClientIP".into();
    let mut empty = service("empty", "10.96.0.11", "http", 80, IntOrString::int(8080));
    empty.spec.as_mut().unwrap().ports[0].node_port = 30002;
    let found = endpoints("web", "http", 8080, &["10.244.0.5", "10.244.0.6"], &[]);
    let ports = service_ports(&arcs(vec![web, empty]), &arcs(vec![found]));
    let written = proxier.sync(&ports).unwrap();
    let saved = runner.run("iptables-save", &[], None).unwrap();
    assert!(
        saved.contains("-A OUTPUT -j RK-SERVICES") && saved.contains("-A POSTROUTING -j RK-POSTROUTING"),
        "{saved}"
    );
    assert!(saved.contains("--probability 0.5") && saved.contains("--reject-with tcp-reset"), "{saved}");
    let rk_rules = saved.lines().filter(|l| l.starts_with("-A RK-")).count();
    assert_eq!(rk_rules, written, "{saved}");
    let routes = runner.run("ip", &["route", "show", "table", "local"], None).unwrap();
    assert!(routes.contains("local 10.96.0.0/16 dev lo"), "{routes}");

    proxier.cleanup().unwrap();
    let saved = runner.run("iptables-save", &[], None).unwrap();
    assert!(!saved.contains("RK-"), "{saved}");
    assert!(iptables.list_chains("nat").unwrap().iter().all(|c| !c.starts_with("RK-")));
    let routes = runner.run("ip", &["route", "show", "table", "local"], None).unwrap();
    assert!(!routes.contains("10.96.0.0/16"), "{routes}");
}
