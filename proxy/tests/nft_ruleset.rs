//! The nftables rule builder and script renderer, asserted on their output.

mod support;

use rk_proto::v1::{ClientIpConfig, SessionAffinityConfig};
use rk_proto::IntOrString;
use rk_proxy::model::service_ports;
use rk_proxy::model::ServicePortInfo;
use rk_proxy::nft::ruleset::{Layout, Ruleset};
use rk_proxy::nft::script::{changes, full, Listed};
use rk_proxy::nft::state::State;
use std::collections::BTreeMap;
use support::*;

fn layout() -> Layout {
    Layout { node: node(), service_cidr: "10.96.0.0/16".into() }
}

/// The table for `ports`; the state lives on for the test's whole run.
fn build(ports: &[ServicePortInfo]) -> Ruleset<'static> {
    let state = Box::leak(Box::new(State::new(layout())));
    state.update(ports);
    state.ruleset()
}

fn ruleset(services: Vec<rk_proto::v1::Service>, endpoints: Vec<rk_proto::v1::Endpoints>) -> Ruleset<'static> {
    build(&service_ports(&arcs(services), &arcs(endpoints)))
}

fn web() -> rk_proto::v1::Service {
    service("web", "10.96.0.10", "http", 80, IntOrString::int(8080))
}

/// The chain id of default/web's port, as the builder names it.
fn svc() -> String {
    let t = ruleset(vec![web()], vec![endpoints("web", "http", 8080, &["10.244.0.5"], &[])]);
    t.chains.keys().find(|c| c.starts_with("svc-")).unwrap().to_string()
}

/// Services `names` (cluster IPs 10.96.0.1, .2, …) whose one endpoint is the same pod, 10.244.0.5.
fn services_on_one_pod(names: &[&str]) -> Vec<ServicePortInfo> {
    let services = names
        .iter()
        .enumerate()
        .map(|(i, n)| service(n, &format!("10.96.0.{}", i + 1), "http", 80, IntOrString::int(80)));
    let found = names.iter().map(|n| endpoints(n, "http", 80, &["10.244.0.5"], &[]));
    service_ports(&arcs(services.collect()), &arcs(found.collect()))
}

fn elements<'a>(t: &Ruleset<'a>, map: &str) -> Vec<(&'a str, &'a str)> {
    t.elements[map].iter().map(|(k, v)| (*k, *v)).collect()
}

#[test]
fn a_service_without_ready_endpoints_is_rejected_and_gets_no_chain() {
    let mut web = web();
    web.spec.as_mut().unwrap().ports[0].node_port = 30001;
    let t = ruleset(vec![web], vec![endpoints("web", "http", 8080, &[], &["10.244.0.5"])]);
    assert_eq!(elements(&t, "no-endpoint-services"), [("10.96.0.10 . tcp . 80", "goto reject-chain")]);
    assert_eq!(elements(&t, "no-endpoint-nodeports"), [("tcp . 30001", "goto reject-chain")]);
    assert!(t.elements["service-ips"].is_empty() && t.chains.keys().all(|c| !c.starts_with("svc-")));
    assert_eq!(t.chains["reject-chain"], ["meta l4proto tcp reject with tcp reset", "reject"]);
    assert_eq!(t.chains["filter-output"], ["ct state new jump endpoints-check"]);
}

#[test]
fn endpoints_get_slots_of_one_block_and_equal_probability() {
    let found = endpoints("web", "http", 8080, &["10.244.0.5", "10.244.0.6", "10.244.0.7"], &["10.244.0.8"]);
    let t = ruleset(vec![web()], vec![found]);
    let svc = svc();
    assert_eq!(elements(&t, "service-ips"), [("10.96.0.10 . tcp . 80", format!("goto {svc}").as_str())]);
    assert_eq!(
        t.chains[svc.as_str()],
        ["meta l4proto tcp dnat ip to numgen random mod 3 offset 0 map @tcp-endpoints-0"]
    );
    assert_eq!(
        elements(&t, "tcp-endpoints-0"),
        [("0", "10.244.0.5 . 8080"), ("1", "10.244.0.6 . 8080"), ("2", "10.244.0.7 . 8080")]
    );
    let hairpin: Vec<&str> = t.elements["hairpin"].keys().copied().collect();
    assert_eq!(hairpin, ["10.244.0.5 . 10.244.0.5", "10.244.0.6 . 10.244.0.6", "10.244.0.7 . 10.244.0.7"]);
    assert_eq!(t.chains["services"][0], "ip daddr . meta l4proto . th dport vmap @service-ips");
    assert_eq!(
        t.chains["services"][1],
        "ip daddr { 10.9.0.2, 127.0.0.1 } meta l4proto . th dport vmap @service-nodeports"
    );
    assert!(t.chains["masquerading"].contains(
        &"ct status dnat ct original ip daddr 10.96.0.0/16 ip saddr != 10.244.0.0/16 masquerade".to_string()
    ));
}

#[test]
fn a_named_target_port_takes_the_number_from_the_endpoints() {
    let web = service("web", "10.96.0.10", "http", 80, IntOrString::string("web"));
    let t = ruleset(vec![web], vec![endpoints("web", "http", 9090, &["10.244.0.5"], &[])]);
    assert_eq!(elements(&t, "tcp-endpoints-0"), [("0", "10.244.0.5 . 9090")]);
}

#[test]
fn node_ports_and_external_ips_are_marked_for_masquerade_then_served_like_the_cluster_ip() {
    let mut web = web();
    let spec = web.spec.as_mut().unwrap();
    spec.ports[0].node_port = 30001;
    spec.external_ips = vec!["10.50.0.1".into()];
    let t = ruleset(vec![web], vec![endpoints("web", "http", 8080, &["10.244.0.5"], &[])]);
    let svc = svc();
    let ext = svc.replace("svc-", "ext-");
    assert_eq!(t.chains[ext.as_str()], ["jump mark-for-masquerade".to_string(), format!("goto {svc}")]);
    assert_eq!(elements(&t, "service-nodeports"), [("tcp . 30001", format!("goto {ext}").as_str())]);
    assert_eq!(t.elements["service-ips"]["10.50.0.1 . tcp . 80"], format!("goto {ext}"));
}

#[test]
fn client_ip_affinity_remembers_the_endpoint_in_a_set_with_the_timeout() {
    let mut web = web();
    let spec = web.spec.as_mut().unwrap();
    spec.session_affinity = "ClientIP".into();
    spec.session_affinity_config =
        Some(SessionAffinityConfig { client_ip: Some(ClientIpConfig { timeout_seconds: Some(60) }) });
    let t = ruleset(vec![web], vec![endpoints("web", "http", 8080, &["10.244.0.5", "10.244.0.6"], &[])]);
    let rules = &t.chains[svc().as_str()];
    assert_eq!(rules.len(), 4, "{rules:?}");
    assert!(rules[0].starts_with("ip saddr @affinity-") && rules[0].contains("-60 goto sep-"), "{rules:?}");
    assert!(rules[2].starts_with("numgen random mod 2 == 0 goto sep-") && rules[3].starts_with("goto sep-"));
    assert_eq!(t.affinity_sets.len(), 2);
    assert!(t.affinity_sets.values().all(|d| d.contains("flags dynamic,timeout; timeout 60s;")));
    let sep = t.chains.iter().find(|(c, _)| c.starts_with("sep-")).unwrap().1;
    assert!(sep[0].starts_with("update @affinity-") && sep[1].starts_with("meta l4proto tcp dnat ip to 10.244.0."));
}

#[test]
fn blocks_stay_with_their_service_when_others_come_and_go() {
    let mut state = State::new(layout());
    let blocks = |state: &State| -> BTreeMap<String, u32> {
        state.ruleset().blocks.iter().map(|(key, block)| (key.to_string(), *block)).collect()
    };
    state.update(&services_on_one_pod(&["b", "c"]));
    let first = blocks(&state);
    state.update(&services_on_one_pod(&["a", "c"]));
    let second = blocks(&state);
    assert_eq!(first["default/c:http/tcp"], second["default/c:http/tcp"]);
    assert_eq!(second["default/a:http/tcp"], first["default/b:http/tcp"], "the freed block is reused");
}

#[test]
fn a_full_script_rewrites_every_chain_recreates_the_maps_and_deletes_stale_ones() {
    let t = ruleset(vec![web()], vec![endpoints("web", "http", 8080, &["10.244.0.5"], &[])]);
    let listed = Listed::parse(
        "table ip rk {\n\tset affinity-OLD-10800 {\n\t}\n\tmap service-ips {\n\t}\n\tchain services {\n\t\tip daddr . meta l4proto . th dport vmap @service-ips\n\t}\n\tchain svc-OLD {\n\t}\n}\n",
    );
    assert!(listed.chains.contains("svc-OLD") && listed.sets.contains("affinity-OLD-10800"));
    let script = full("rk", &t, &listed).text;
    let lines: Vec<&str> = script.lines().collect();
    assert_eq!(lines[0], "add table ip rk");
    assert!(lines.contains(&"add chain ip rk nat-output { type nat hook output priority -100; policy accept; }"));
    assert!(lines.contains(&"flush chain ip rk svc-OLD") && lines.contains(&"delete map ip rk service-ips"));
    let position = |line: &str| lines.iter().position(|l| *l == line).unwrap_or_else(|| panic!("no {line}:\n{script}"));
    assert!(position("delete chain ip rk svc-OLD") > position("flush chain ip rk services"));
    assert!(position("delete set ip rk affinity-OLD-10800") > position("delete chain ip rk svc-OLD"));
    assert!(script.contains(&format!("add element ip rk service-ips {{ 10.96.0.10 . tcp . 80 : goto {} }}", svc())));
}

#[test]
fn an_endpoint_change_writes_only_its_elements() {
    let ports =
        |ready: &[&str]| service_ports(&arcs(vec![web()]), &arcs(vec![endpoints("web", "http", 8080, ready, &[])]));
    let mut state = State::new(layout());
    state.update(&ports(&["10.244.0.5", "10.244.0.6"]));
    let script = changes("rk", &state.update(&ports(&["10.244.0.5", "10.244.0.7"])));
    assert_eq!(
        script.text,
        "delete element ip rk hairpin { 10.244.0.6 . 10.244.0.6 }\n\
         delete element ip rk tcp-endpoints-0 { 1 }\n\
         add element ip rk hairpin { 10.244.0.7 . 10.244.0.7 }\n\
         add element ip rk tcp-endpoints-0 { 1 : 10.244.0.7 . 8080 }\n"
    );
    assert_eq!(script.written, 2);
    let same = state.update(&ports(&["10.244.0.5", "10.244.0.7"]));
    assert!(changes("rk", &same).text.is_empty(), "no change, no script");
    let script = changes("rk", &state.update(&ports(&["10.244.0.5", "10.244.0.6", "10.244.0.7"]))).text;
    assert!(
        script.contains(&format!("flush chain ip rk {}\n", svc())) && script.contains("mod 3 offset 0"),
        "{script}"
    );
}

#[test]
fn a_pod_behind_two_services_keeps_its_hairpin_element_until_both_let_go() {
    let mut state = State::new(layout());
    state.update(&services_on_one_pod(&["a", "b"]));
    let script = changes("rk", &state.update(&services_on_one_pod(&["a"]))).text;
    assert!(!script.contains("hairpin") && script.contains("delete chain ip rk svc-"), "{script}");
    let script = changes("rk", &state.update(&services_on_one_pod(&[]))).text;
    assert!(script.contains("delete element ip rk hairpin { 10.244.0.5 . 10.244.0.5 }"), "{script}");
}
