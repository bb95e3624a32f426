//! A two-node local cluster end to end: each node a network namespace with
//! its own dockerd and kubelet on a bridge, pods routed between nodes
//! host-gw style, and nothing routed off the machine.

mod common;

use common::{eventually, text, Cluster};
use rk_testkit::{free_port, lease_cluster_cidr, CidrLease};
use std::process::Command;
use std::time::{Duration, Instant};

const BUSYBOX: &str = "rk/busybox:1.35";

struct TwoNodes {
    cluster: Cluster,
    _cidrs: [CidrLease; 2],
}

impl TwoNodes {
    fn up() -> TwoNodes {
        let (pods, nodes) = (lease_cluster_cidr(), lease_cluster_cidr());
        let args = [
            "--nodes=2".to_string(),
            format!("--cluster-cidr={}", pods.cidr()),
            format!("--node-subnet={}", nodes.subnet(0)),
            "--node-labels=node1:disktype=spinning".to_string(),
            "--node-labels=node2:disktype=ssd".to_string(),
            "--node-labels=tier=test".to_string(),
            format!("--kubelet-port={}", free_port()),
            format!("--kubelet-health-port={}", free_port()),
            "--kubelet-arg=--node-status-update-frequency=1".to_string(),
        ];
        let cluster = Cluster::up_with(&args.iter().map(String::as_str).collect::<Vec<_>>());
        TwoNodes { cluster, _cidrs: [pods, nodes] }
    }

    fn create(&self, name: &str, yaml: &str) {
        let file = self.cluster.write(&format!("{name}.yaml"), yaml);
        self.cluster.ok(&["create", "-f", &file]);
    }

    /// The one pod whose name starts with `prefix` once it runs: (name, node, IP).
    fn running_pod(&self, prefix: &str) -> (String, String, String) {
        let path =
            "jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.podIP} {.status.phase}{\"\\n\"}{end}";
        let listing = eventually(&self.cluster, &["get", "pods", "-o", path], &format!("{prefix} Running"), |t| {
            t.lines().any(|l| l.starts_with(prefix) && l.ends_with(" Running"))
        });
        let line = listing.lines().find(|l| l.starts_with(prefix)).unwrap();
        let fields: Vec<&str> = line.split_whitespace().collect();
        (fields[0].to_string(), fields[1].to_string(), fields[2].to_string())
    }
}

/// The bridge this cluster made: the host interface holding the node subnet's first address.
fn bridge_of(subnet_gateway: &str) -> String {
    let out = Command::new("ip").args(["-o", "-4", "addr", "show", "to", subnet_gateway]).output().unwrap();
    let listing = text(&out.stdout);
    let name = listing.split_whitespace().nth(1).unwrap_or_default().to_string();
    assert!(name.starts_with("rk"), "no rk bridge holds {subnet_gateway}: {listing:?}");
    name
}

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

    let bridge = bridge_of(&nodes._cidrs[1].gateway(0));
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
