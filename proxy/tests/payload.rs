//! The payload builder, asserted on its output.

mod support;

use rk_proto::v1::{ClientIpConfig, LoadBalancerIngress, LoadBalancerStatus, ServiceStatus, SessionAffinityConfig};
use rk_proto::IntOrString;
use rk_proxy::model::service_ports;
use rk_proxy::payload::{render, Previous};
use rk_proxy::rules::{build, Tables};
use support::*;

fn tables(services: Vec<rk_proto::v1::Service>, endpoints: Vec<rk_proto::v1::Endpoints>) -> Tables {
    build(&service_ports(&arcs(services), &arcs(endpoints)), &node())
}

fn chain<'a>(tables: &'a Tables, table: &str, chain: &str) -> &'a [String] {
    tables[table].get(chain).map(Vec::as_slice).unwrap_or_else(|| panic!("no chain {table}/{chain}"))
}

fn web() -> rk_proto::v1::Service {
    service("web", "10.96.0.10", "http", 80, IntOrString::int(8080))
}

fn svc_chain() -> String {
    node().names.service("default/web:http/tcp")
}

fn sep_chain(address: &str) -> String {
    node().names.endpoint("default/web:http/tcp", address)
}

#[test]
fn a_service_without_ready_endpoints_is_rejected_and_gets_no_nat_chain() {
    let t = tables(vec![web()], vec![endpoints("web", "http", 8080, &[], &["10.244.0.5"])]);
    assert_eq!(
        chain(&t, "filter", "RK-SERVICES"),
        ["-A RK-SERVICES -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -m comment --comment \"default/web:http/tcp has no endpoints\" -j REJECT --reject-with tcp-reset"]
    );
    assert!(!t["nat"].contains_key(&svc_chain()));
    assert!(chain(&t, "nat", "RK-SERVICES").iter().all(|rule| !rule.contains("10.96.0.10")));
}

#[test]
fn one_endpoint_is_dnatted_without_a_coin_toss() {
    let t = tables(vec![web()], vec![endpoints("web", "http", 8080, &["10.244.0.5"], &[])]);
    let svc = svc_chain();
    let sep = sep_chain("10.244.0.5:8080");
    assert_eq!(
        chain(&t, "nat", "RK-SERVICES"),
        [
            format!("-A RK-SERVICES -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -m comment --comment \"default/web:http/tcp cluster IP\" -j {svc}"),
            "-A RK-SERVICES -d 10.9.0.2/32 -j RK-NODEPORTS".into(),
            "-A RK-SERVICES -d 127.0.0.1/32 -j RK-NODEPORTS".into(),
        ]
    );
    assert_eq!(
        chain(&t, "nat", &svc),
        [
            format!("-A {svc} ! -s 10.244.0.0/16 -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j RK-MARK-MASQ"),
            format!("-A {svc} -j {sep}"),
        ]
    );
    assert_eq!(
        chain(&t, "nat", &sep),
        [
            format!("-A {sep} -s 10.244.0.5/32 -j RK-MARK-MASQ"),
            format!("-A {sep} -p tcp -m tcp -j DNAT --to-destination 10.244.0.5:8080"),
        ]
    );
    assert!(chain(&t, "filter", "RK-SERVICES").is_empty());
}

#[test]
fn many_endpoints_get_equal_probability_and_not_ready_ones_none() {
    let ready = ["10.244.0.5", "10.244.0.6", "10.244.0.7"];
    let t = tables(vec![web()], vec![endpoints("web", "http", 8080, &ready, &["10.244.0.8"])]);
    let svc = svc_chain();
    let picks: Vec<&String> = chain(&t, "nat", &svc).iter().skip(1).collect();
    let seps: Vec<String> = ready.iter().map(|ip| sep_chain(&format!("{ip}:8080"))).collect();
    assert_eq!(
        picks,
        [
            &format!("-A {svc} -m statistic --mode random --probability 0.3333333333 -j {}", seps[0]),
            &format!("-A {svc} -m statistic --mode random --probability 0.5000000000 -j {}", seps[1]),
            &format!("-A {svc} -j {}", seps[2]),
        ]
    );
    assert!(!t["nat"].contains_key(&sep_chain("10.244.0.8:8080")));
}

#[test]
fn a_named_target_port_takes_the_number_from_the_endpoints() {
    let named = service("web", "10.96.0.10", "http", 80, IntOrString::string("web-port"));
    let t = tables(vec![named], vec![endpoints("web", "http", 9376, &["10.244.0.5"], &[])]);
    let rules = chain(&t, "nat", &sep_chain("10.244.0.5:9376"));
    assert!(rules[1].ends_with("-j DNAT --to-destination 10.244.0.5:9376"), "{rules:?}");
}

#[test]
fn client_ip_affinity_remembers_the_endpoint_for_its_timeout() {
    let mut sticky = web();
    let spec = sticky.spec.as_mut().unwrap();
    spec.session_affinity = "ClientIP".into();
    let t = tables(vec![sticky.clone()], vec![endpoints("web", "http", 8080, &["10.244.0.5", "10.244.0.6"], &[])]);
    let (svc, first) = (svc_chain(), sep_chain("10.244.0.5:8080"));
    let rules = chain(&t, "nat", &svc);
    assert_eq!(
        rules[1],
        format!("-A {svc} -m recent --name {first} --mask 255.255.255.255 --rsource --rcheck --seconds 10800 --reap -j {first}")
    );
    assert!(rules[3].contains("--probability 0.5000000000"), "{rules:?}");
    assert_eq!(
        chain(&t, "nat", &first)[1],
        format!("-A {first} -p tcp -m tcp -m recent --name {first} --mask 255.255.255.255 --rsource --set -j DNAT --to-destination 10.244.0.5:8080")
    );
    sticky.spec.as_mut().unwrap().session_affinity_config =
        Some(SessionAffinityConfig { client_ip: Some(ClientIpConfig { timeout_seconds: Some(60) }) });
    let t = tables(vec![sticky], vec![endpoints("web", "http", 8080, &["10.244.0.5"], &[])]);
    assert!(chain(&t, "nat", &svc)[1].contains("--seconds 60 "));
}

#[test]
fn a_node_port_answers_on_every_node_address_and_is_masqueraded() {
    let mut exposed = web();
    exposed.spec.as_mut().unwrap().ports[0].node_port = 30001;
    let t = tables(vec![exposed.clone()], vec![endpoints("web", "http", 8080, &["10.244.0.5"], &[])]);
    let svc = svc_chain();
    assert_eq!(
        chain(&t, "nat", "RK-NODEPORTS"),
        [
            "-A RK-NODEPORTS -p tcp -m tcp --dport 30001 -m comment --comment \"default/web:http/tcp\" -j RK-MARK-MASQ"
                .to_string(),
            format!(
                "-A RK-NODEPORTS -p tcp -m tcp --dport 30001 -m comment --comment \"default/web:http/tcp\" -j {svc}"
            ),
        ]
    );
    let services = chain(&t, "nat", "RK-SERVICES");
    assert_eq!(
        &services[services.len() - 2..],
        ["-A RK-SERVICES -d 10.9.0.2/32 -j RK-NODEPORTS", "-A RK-SERVICES -d 127.0.0.1/32 -j RK-NODEPORTS"]
    );
    assert_eq!(
        chain(&t, "nat", "RK-POSTROUTING")[2],
        "-A RK-POSTROUTING -m comment --comment \"rk service traffic requiring SNAT\" -j MASQUERADE"
    );
    // Without endpoints the node port is refused on every node address too.
    let t = tables(vec![exposed], vec![]);
    let rejects = chain(&t, "filter", "RK-SERVICES");
    assert_eq!(rejects.len(), 3);
    assert!(rejects[1].starts_with("-A RK-SERVICES -d 10.9.0.2/32 -p tcp -m tcp --dport 30001 "), "{rejects:?}");
    assert!(rejects[2].starts_with("-A RK-SERVICES -d 127.0.0.1/32 -p tcp -m tcp --dport 30001 "), "{rejects:?}");
}

#[test]
fn external_ips_and_load_balancer_ingress_are_served_like_the_cluster_ip() {
    let mut public = web();
    public.spec.as_mut().unwrap().external_ips = vec!["10.50.0.1".into()];
    public.status = Some(ServiceStatus {
        load_balancer: Some(LoadBalancerStatus {
            ingress: vec![LoadBalancerIngress { ip: "10.60.0.1".into(), hostname: String::new() }],
        }),
    });
    let t = tables(vec![public], vec![endpoints("web", "http", 8080, &["10.244.0.5"], &[])]);
    let svc = svc_chain();
    let services = chain(&t, "nat", "RK-SERVICES");
    for ip in ["10.50.0.1", "10.60.0.1"] {
        let matched = format!("-A RK-SERVICES -d {ip}/32 -p tcp -m tcp --dport 80 -m comment --comment \"default/web:http/tcp external IP\"");
        assert!(services.contains(&format!("{matched} -j RK-MARK-MASQ")), "{services:?}");
        assert!(services.contains(&format!("{matched} -j {svc}")), "{services:?}");
    }
}

#[test]
fn headless_services_and_unknown_protocols_get_no_rules() {
    let mut headless = web();
    headless.spec.as_mut().unwrap().cluster_ip = "None".into();
    let mut sctp = service("sctp", "10.96.0.11", "s", 9, IntOrString::int(9));
    sctp.spec.as_mut().unwrap().ports[0].protocol = "SCTP".into();
    assert!(service_ports(
        &arcs(vec![headless, sctp]),
        &arcs(vec![endpoints("web", "http", 8080, &["10.244.0.5"], &[])])
    )
    .is_empty());
}

#[test]
fn a_full_payload_declares_writes_and_deletes_only_rks_chains() {
    let t = tables(vec![web()], vec![endpoints("web", "http", 8080, &["10.244.0.5"], &[])]);
    let listed = Previous::Listed([("nat", ["RK-SVC-OLD".to_string()].into()), ("filter", Default::default())].into());
    let payload = render(&t, &listed);
    let text = &payload.text;
    assert!(text.starts_with("*filter\n:RK-SERVICES - [0:0]\nCOMMIT\n*nat\n"), "{text}");
    assert!(text.contains(":RK-SVC-OLD - [0:0]\n") && text.ends_with("-X RK-SVC-OLD\nCOMMIT\n"), "{text}");
    for line in text.lines() {
        let touches_own = line.starts_with(":RK-") || line.starts_with("-A RK-") || line.starts_with("-X RK-");
        assert!(touches_own || line.starts_with('*') || line == "COMMIT", "touches a foreign chain: {line}");
    }
    let nat_rules: usize = t["nat"].values().map(Vec::len).sum();
    assert_eq!(payload.rules_written, nat_rules);
}

#[test]
fn an_endpoint_change_rewrites_only_its_chains_and_removes_the_stale_one() {
    let before = tables(vec![web()], vec![endpoints("web", "http", 8080, &["10.244.0.5", "10.244.0.6"], &[])]);
    let after = tables(vec![web()], vec![endpoints("web", "http", 8080, &["10.244.0.5", "10.244.0.7"], &[])]);
    let text = render(&after, &Previous::Applied(before.clone())).text;
    let (svc, gone, new) = (svc_chain(), sep_chain("10.244.0.6:8080"), sep_chain("10.244.0.7:8080"));
    let declared: Vec<&str> = text.lines().filter(|l| l.starts_with(':')).collect();
    assert_eq!(declared.len(), 3, "{text}");
    for chain in [&svc, &gone, &new] {
        assert!(declared.contains(&format!(":{chain} - [0:0]").as_str()), "{chain} not declared in {text}");
    }
    assert!(text.ends_with(&format!("-X {gone}\nCOMMIT\n")) && !text.contains("*filter"), "{text}");
    assert_eq!(render(&after, &Previous::Applied(after.clone())).text, "", "nothing changed, nothing written");
}
