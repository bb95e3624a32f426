//! A two-node local cluster end to end: each node a network namespace with
//! its own dockerd and kubelet on a bridge, pods routed between nodes
//! host-gw style, and nothing routed off the machine.

mod common;

use common::nodes::{bridge_of, TwoNodes};
use common::{address, answers, eventually, hello, text, Cluster};
use rk_testkit::lease_cluster_cidr;
use std::io::ErrorKind;
use std::process::Command;
use std::time::{Duration, Instant};

const BUSYBOX: &str = "rk/busybox:1.35";

fn pids(cluster: &Cluster) -> Vec<i32> {
    std::fs::read_dir(cluster.dir.path())
        .unwrap()
        .filter_map(|entry| {
            let path = entry.unwrap().path();
            (path.extension()? == "pid").then(|| std::fs::read_to_string(&path).ok()?.trim().parse().ok())?
        })
        .collect()
}

/// Running, not a zombie waiting for a parent that is not us to reap it.
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| !stat.rsplit(')').next().unwrap_or_default().trim_start().starts_with('Z'))
}

#[test]
fn two_nodes_route_pods_to_each_other_but_not_off_the_machine_and_down_removes_everything() {
    let nodes = TwoNodes::up();
    let cluster = &nodes.cluster;
    let listing = eventually(cluster, &["get", "nodes", "--show-labels"], "both nodes Ready", |t| {
        t.lines().filter(|l| l.contains(" Ready ")).count() == 2
    });
    for (node, disk) in [("node1", "spinning"), ("node2", "ssd")] {
        let line = listing.lines().find(|l| l.starts_with(node)).unwrap_or_else(|| panic!("{node} in {listing}"));
        assert!(line.contains(&format!("disktype={disk}")) && line.contains("tier=test"), "{line}");
    }

    let server = format!(
        "apiVersion: v1\nkind: ReplicationController\nmetadata:\n  name: server\nspec:\n  replicas: 1\n  selector: {{app: server}}\n  template:\n    metadata:\n      labels: {{app: server}}\n    spec:\n      nodeSelector: {{disktype: ssd}}\n      terminationGracePeriodSeconds: 1\n      containers:\n      - name: nc\n        image: {BUSYBOX}\n        command: [sh, -c, 'while true; do nc -l -p 8080 -e netstat -tn; done']\n"
    );
    nodes.create("server", &server);
    let (_, server_node, server_ip) = nodes.running_pod("server-");
    assert_eq!(server_node, "node2", "nodeSelector disktype=ssd");

    let client = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: client\nspec:\n  nodeSelector: {{disktype: spinning}}\n  terminationGracePeriodSeconds: 1\n  containers:\n  - name: shell\n    image: {BUSYBOX}\n    command: [sleep, '3600']\n"
    );
    nodes.create("client", &client);
    let (_, client_node, client_ip) = nodes.running_pod("client");
    assert_eq!(client_node, "node1");
    assert_ne!(client_ip.rsplit_once('.').unwrap().0, server_ip.rsplit_once('.').unwrap().0, "pod CIDRs differ");

    // Across nodes by pod IP (the server may still be starting its listener).
    let connect = format!("nc -w 3 {server_ip} 8080 </dev/null");
    // The server shows its connections: the client's pod IP, not a node address (no masquerade).
    let seen =
        eventually(cluster, &["exec", "client", "--", "sh", "-c", &connect], "client reaches the server", |out| {
            out.contains(&format!("{server_ip}:8080"))
        });
    let peer = seen.lines().find(|l| l.contains(&format!("{server_ip}:8080"))).unwrap_or_default();
    assert!(peer.contains(&format!("{client_ip}:")), "the server sees the client's pod IP: {seen}");

    // No default route on the node: leaving the machine fails at once.
    let started = Instant::now();
    let out = cluster.rkctl(&["exec", "client", "--", "nc", "-w", "5", "192.0.2.1", "80"]);
    assert!(!out.status.success(), "reaching 192.0.2.1 must fail: {}", text(&out.stdout));
    assert!(started.elapsed() < Duration::from_secs(4), "it failed only after {:?}", started.elapsed());

    // The nodes reach the apiserver at the bridge address; it listens there and on loopback only.
    let port = cluster.server().rsplit_once(':').unwrap().1.to_string();
    let sockets = text(&Command::new("ss").args(["-Hltn", &format!("sport = :{port}")]).output().unwrap().stdout);
    let mut listening: Vec<&str> = sockets.lines().filter_map(|l| l.split_whitespace().nth(3)).collect();
    listening.sort();
    assert_eq!(listening, [format!("{}:{port}", nodes.cidrs[1].gateway(0)), format!("127.0.0.1:{port}")]);

    let bridge = bridge_of(&nodes.cidrs[1].gateway(0));
    let id = bridge.trim_start_matches("rk").to_string();
    let running = pids(cluster);
    assert!(running.len() >= 8, "etcd, 3 control-plane components, 2 × (dockerd, kubelet): {running:?}");
    cluster.ok(&["cluster", "down"]);

    let netns = text(&Command::new("ip").args(["netns", "list"]).output().unwrap().stdout);
    assert!(!netns.contains(&format!("rk-{id}-")), "namespaces left: {netns}");
    let links = text(&Command::new("ip").args(["-o", "link", "show"]).output().unwrap().stdout);
    assert!(!links.contains(&format!("rk{id}")), "bridge or veths left: {links}");
    let rules = text(&Command::new("iptables").args(["-w", "-S"]).output().unwrap().stdout);
    assert!(!rules.contains(&format!("RKNODES-{id}")), "rules left: {rules}");
    let alive: Vec<&i32> = running.iter().filter(|pid| alive(**pid)).collect();
    assert!(alive.is_empty(), "processes left: {alive:?}");
}

#[test]
fn a_load_balancer_service_answers_on_its_ingress_ip_from_the_host_and_a_free_address_is_refused() {
    let range = lease_cluster_cidr();
    let nodes = TwoNodes::up_with(&[&format!("--load-balancer-ip-range={}", range.subnet(0))]);
    let cluster = &nodes.cluster;
    nodes.hello_service(2, "LoadBalancer");
    let pods: Vec<String> = nodes.hello_pods(2).into_iter().map(|(name, _)| name).collect();
    let path = "jsonpath={.status.loadBalancer.ingress[0].ip}";
    let ingress = eventually(cluster, &["get", "svc", "hello", "-o", path], "an ingress IP", |ip| !ip.is_empty());
    assert!(ingress.starts_with(range.subnet(0).trim_end_matches("0/24")), "{ingress} not in {}", range.subnet(0));
    let listing = cluster.ok(&["get", "svc", "hello"]);
    assert!(listing.contains(&ingress), "EXTERNAL-IP shows the ingress IP:\n{listing}");

    // The host routes the range to the nodes, whose rk-proxy DNATs the ingress IP to the pods.
    let seen = answers(address(&ingress, "80"), 20);
    assert!(seen.iter().all(|pod| pods.contains(pod)), "{seen:?} answered, pods are {pods:?}");

    // An address of the range no Service holds is local to the nodes: refused there, never sent on.
    let free = format!("{}254", range.subnet(0).trim_end_matches("0/24"));
    let started = Instant::now();
    let error = hello(address(&free, "80")).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "{free}: {error}");
    assert!(started.elapsed() < Duration::from_secs(1), "refused only after {:?}", started.elapsed());

    let down = cluster.ok(&["cluster", "down"]);
    assert!(down.contains(&format!("removed route {}", range.subnet(0))), "{down}");
    let routes = text(&Command::new("ip").args(["route", "show", &range.subnet(0)]).output().unwrap().stdout);
    assert!(routes.trim().is_empty(), "route left: {routes}");
}

#[test]
fn a_node_cut_off_turns_not_ready_its_pods_move_and_the_service_keeps_answering() {
    let nodes = TwoNodes::up_with(&["--node-monitor-grace-period=3", "--pod-eviction-timeout=6"]);
    let cluster = &nodes.cluster;
    nodes.hello_service(3, "NodePort");
    let before = nodes.hello_pods(3);
    assert!(before.iter().any(|(_, node)| node == "node2"), "replicas spread over both nodes: {before:?}");
    let node_port = cluster.ok(&["get", "svc", "hello", "-o", "jsonpath={.spec.ports[0].nodePort}"]);
    // Clients reach the Service on node1, which stays up.
    let service = address(&nodes.node_address(1), &node_port);
    answers(service, 10);

    let link = nodes.link(2);
    let set_link = |state: &str| {
        let status = Command::new("ip").args(["link", "set", &link, state]).status().unwrap();
        assert!(status.success(), "ip link set {link} {state}");
    };
    set_link("down");
    // Requests go on while the node is found out and its pods move; every failure is counted.
    let path = "jsonpath={range .items[*]}{.spec.nodeName} {.status.phase}{\"\\n\"}{end}";
    let deadline = Instant::now() + Duration::from_secs(90);
    let (mut requests, mut failures, mut last_check) = (0, 0, Instant::now());
    loop {
        requests += 1;
        if let Err(error) = hello(service) {
            failures += 1;
            eprintln!("request {requests} failed while node2 is cut off: {error}");
        }
        if last_check.elapsed() > Duration::from_secs(1) {
            last_check = Instant::now();
            let nodes_table = cluster.ok(&["get", "nodes"]);
            let pods = cluster.ok(&["get", "pods", "-l", "app=hello", "-o", path]);
            let node2_not_ready = nodes_table.lines().any(|l| l.starts_with("node2") && l.contains("NotReady"));
            let moved = pods.lines().filter(|l| *l == "node1 Running").count() == 3 && pods.lines().count() == 3;
            if node2_not_ready && moved {
                break;
            }
            assert!(Instant::now() < deadline, "node2 never NotReady with its pods moved:\n{nodes_table}\n{pods}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("{failures} of {requests} requests failed while node2 was cut off and its pods moved");
    // Once the Endpoints hold only node1's pods, nothing fails.
    let after: Vec<String> = nodes.hello_pods(3).into_iter().map(|(name, _)| name).collect();
    let mut seen = answers(service, 30);
    seen.sort();
    seen.dedup();
    assert!(seen.iter().all(|pod| after.contains(pod)), "answers from {seen:?}, pods are {after:?}");

    set_link("up");
    eventually(cluster, &["get", "nodes"], "node2 Ready again", |t| {
        t.lines().any(|l| l.starts_with("node2") && l.contains(" Ready "))
    });
}
