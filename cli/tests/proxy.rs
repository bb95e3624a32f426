//! rk-proxy end to end: a one-node cluster whose proxy programs the host's
//! iptables or nftables, whichever mode it runs in (chains or a table of a
//! prefix and a service CIDR of this test's own, so parallel clusters do not
//! meet), checked with real connections from the host and from a pod. Every
//! address is local: service IPs are routed to lo.

mod common;

use common::{address, answers, eventually, hello, text, NodeCluster};
use std::io::ErrorKind;
use std::time::{Duration, Instant};

const BUSYBOX: &str = "rk/busybox:1.35";
const HELLO: &str = "rk/hello:1.0";

/// A cluster whose proxy owns the chains `<prefix>-*` and routes its own service CIDR.
struct ProxyCluster {
    cluster: NodeCluster,
    prefix: String,
    service_cidr: String,
}

impl ProxyCluster {
    fn up() -> ProxyCluster {
        let cluster = NodeCluster::up(&["--proxy-arg=--min-sync-period=0.2"]);
        let (prefix, service_cidr) = (cluster.chain_prefix.clone(), cluster.service_cidr.clone());
        ProxyCluster { cluster, prefix, service_cidr }
    }

    /// The proxy's nftables table (`nft -t list table ip <prefix>`), when it runs in that mode.
    fn nft_table(&self) -> Option<String> {
        let table = self.prefix.to_ascii_lowercase();
        let listed = std::process::Command::new("nft").args(["-t", "list", "table", "ip", &table]).output().unwrap();
        listed.status.success().then(|| text(&listed.stdout))
    }

    /// The proxy's rules in either mode: its nftables table, or the iptables lines naming its chains.
    fn rules(&self) -> String {
        self.nft_table().unwrap_or_else(|| {
            let saved = text(&std::process::Command::new("iptables-save").output().unwrap().stdout);
            saved.lines().filter(|l| l.contains(&format!("{}-", self.prefix))).collect::<Vec<_>>().join("\n")
        })
    }

    fn create(&self, name: &str, yaml: &str) {
        let file = self.cluster.write(&format!("{name}.yaml"), yaml);
        self.cluster.ok(&["create", "-f", &file]);
    }

    fn get(&self, kind: &str, name: &str, path: &str) -> String {
        self.cluster.ok(&["get", kind, name, "-o", &format!("jsonpath={path}")])
    }

    /// An RC of `replicas` rk/hello pods labelled app=hello, all Running.
    fn hello_pods(&self, replicas: usize) -> Vec<String> {
        let rc = format!("apiVersion: v1\nkind: ReplicationController\nmetadata:\n  name: hello\nspec:\n  replicas: {replicas}\n  selector: {{app: hello}}\n  template:\n    metadata:\n      labels: {{app: hello}}\n    spec:\n      terminationGracePeriodSeconds: 1\n      containers:\n      - name: hello\n        image: {HELLO}\n        ports:\n        - {{name: web, containerPort: 8080}}\n");
        self.create("rc", &rc);
        let args = ["get", "pods", "-l", "app=hello"];
        let table = eventually(&self.cluster, &args, "hello pods Running", |t| {
            t.lines().skip(1).filter(|row| row.contains("Running")).count() == replicas
        });
        table.lines().skip(1).map(|row| row.split_whitespace().next().unwrap().to_string()).collect()
    }

    /// A Service `name` over the hello pods (targetPort by name), and its cluster IP.
    fn service(&self, name: &str, spec_extra: &str) -> String {
        let svc = format!("apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  selector: {{app: hello}}\n{spec_extra}  ports:\n  - {{name: http, port: 80, targetPort: web}}\n");
        self.create(name, &svc);
        let ip = self.get("svc", name, "{.spec.clusterIP}");
        assert!(ip.starts_with(self.service_cidr.trim_end_matches("0.0/16")), "{ip} not in {}", self.service_cidr);
        ip
    }
}

#[test]
fn a_cluster_ip_spreads_over_every_replica_node_ports_answer_and_no_endpoints_refuse_at_once() {
    let cluster = ProxyCluster::up();
    let mut pods = cluster.hello_pods(3);
    let ip = cluster.service("hello", "  type: NodePort\n");
    let mut seen = answers(address(&ip, "80"), 60);
    seen.sort();
    seen.dedup();
    pods.sort();
    assert_eq!(seen, pods, "60 requests to the cluster IP reach every replica");

    let node_port = cluster.get("svc", "hello", "{.spec.ports[0].nodePort}");
    let from_node = answers(address("127.0.0.1", &node_port), 3);
    assert!(from_node.iter().all(|pod| pods.contains(pod)), "{from_node:?}");

    // A pod made after the Service finds it in its environment and reaches it with nc.
    let shell = format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: shell\nspec:\n  containers:\n  - name: shell\n    image: {BUSYBOX}\n    command: [sleep, '3600']\n");
    cluster.create("shell", &shell);
    eventually(&cluster.cluster, &["get", "pod", "shell", "-o", "jsonpath={.status.phase}"], "shell Running", |p| {
        p == "Running"
    });
    let request = r#"printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 3 $HELLO_SERVICE_HOST $HELLO_SERVICE_PORT"#;
    let out = eventually(&cluster.cluster, &["exec", "shell", "--", "sh", "-c", request], "nc to the service", |t| {
        t.contains("Hello from ")
    });
    assert!(pods.iter().any(|pod| out.contains(&format!("Hello from {pod}!"))), "{out}");

    cluster.cluster.ok(&["scale", "rc", "hello", "--replicas=0"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let started = Instant::now();
        match hello(address(&ip, "80")) {
            Err(error) if error.kind() == ErrorKind::ConnectionRefused => {
                assert!(started.elapsed() < Duration::from_secs(1), "refused, but only after {:?}", started.elapsed());
                break;
            }
            other => assert!(Instant::now() < deadline, "still not refused: {other:?}"),
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let refused = hello(address("127.0.0.1", &node_port)).unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::ConnectionRefused, "the node port too: {refused}");
}

#[test]
fn client_ip_affinity_keeps_one_client_on_one_pod_and_cluster_down_removes_the_rules() {
    let cluster = ProxyCluster::up();
    let pods = cluster.hello_pods(3);
    let ip = cluster.service("sticky", "  sessionAffinity: ClientIP\n");
    let seen = answers(address(&ip, "80"), 30);
    assert!(pods.contains(&seen[0]), "{seen:?}");
    assert!(seen.iter().all(|pod| *pod == seen[0]), "one client, one pod: {seen:?}");

    let rules = cluster.rules();
    let removed = match cluster.nft_table() {
        Some(table) => {
            assert!(table.contains("type nat hook output priority -100"), "output hook missing:\n{table}");
            assert!(table.contains("jump services"), "jump missing:\n{table}");
            // The timeout names the set and, in nft's words, is its timeout (10800 s).
            assert!(table.contains("-10800 {") && table.contains("timeout 3h"), "affinity set missing:\n{table}");
            format!("nftables table ip {}", cluster.prefix.to_ascii_lowercase())
        }
        None => {
            assert!(rules.contains(&format!("-A OUTPUT -j {}-SERVICES", cluster.prefix)), "jump missing:\n{rules}");
            assert!(rules.contains("--rcheck --seconds 10800"), "affinity rule missing:\n{rules}");
            format!("{}-* chains", cluster.prefix)
        }
    };

    let down = cluster.cluster.ok(&["cluster", "down"]);
    assert!(down.contains(&format!("removed rk-proxy's {removed}")), "{down}");
    assert!(cluster.nft_table().is_none(), "table left after cluster down");
    let rules = cluster.rules();
    assert!(rules.is_empty(), "rules left after cluster down:\n{rules}");
    let routes =
        text(&std::process::Command::new("ip").args(["route", "show", "table", "local"]).output().unwrap().stdout);
    assert!(!routes.contains(&cluster.service_cidr), "route left: {routes}");
}

#[test]
fn a_pod_reaches_itself_through_its_own_service() {
    let cluster = ProxyCluster::up();
    // The Service's only endpoint is the pod that calls it (hairpin): rk-proxy masquerades that
    // traffic, or the pod would answer its own address directly and drop the reply.
    let pod = format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: lonely\n  labels: {{app: hello}}\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n  - name: server\n    image: {BUSYBOX}\n    command: [sh, -c, 'while true; do nc -l -p 8080 -e hostname; done']\n    ports:\n    - {{name: web, containerPort: 8080}}\n");
    cluster.create("lonely", &pod);
    let ip = cluster.service("hairpin", "");
    eventually(&cluster.cluster, &["get", "pod", "lonely", "-o", "jsonpath={.status.phase}"], "lonely Running", |p| {
        p == "Running"
    });
    let call = format!("nc -w 3 {ip} 80 </dev/null");
    let out =
        eventually(&cluster.cluster, &["exec", "lonely", "--", "sh", "-c", &call], "the pod answers itself", |t| {
            t.trim() == "lonely"
        });
    assert_eq!(out.trim(), "lonely");
}

#[test]
fn a_udp_flow_moves_to_the_new_endpoint_when_its_pod_is_replaced() {
    let cluster = ProxyCluster::up();
    // rk/hello answers every UDP datagram on its port with its hostname.
    let rc = format!("apiVersion: v1\nkind: ReplicationController\nmetadata:\n  name: echo\nspec:\n  replicas: 1\n  selector: {{app: echo}}\n  template:\n    metadata:\n      labels: {{app: echo}}\n    spec:\n      terminationGracePeriodSeconds: 1\n      containers:\n      - name: echo\n        image: {HELLO}\n        ports:\n        - {{name: echo, containerPort: 8080, protocol: UDP}}\n");
    cluster.create("echo", &rc);
    let svc = "apiVersion: v1\nkind: Service\nmetadata:\n  name: echo\nspec:\n  selector: {app: echo}\n  ports:\n  - {protocol: UDP, port: 53, targetPort: echo}\n";
    cluster.create("echo-svc", svc);
    let service = address(&cluster.get("svc", "echo", "{.spec.clusterIP}"), "53");

    // One socket, so every datagram belongs to the same conntrack flow.
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    let answer_other_than = |previous: &str| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            // Refused (EPERM from the reject rule) while the Service has no endpoint yet.
            let sent = socket.send_to(b"ping\n", service);
            let mut reply = [0u8; 256];
            if let (Ok(_), Ok((n, _))) = (sent, socket.recv_from(&mut reply)) {
                let text = String::from_utf8_lossy(&reply[..n]);
                let pod = text.trim().trim_start_matches("Hello from ").trim_end_matches('!').to_string();
                if pod.starts_with("echo-") && pod != previous {
                    return pod;
                }
            }
            if Instant::now() > deadline {
                let ep = cluster.cluster.ok(&["get", "ep", "echo", "-o", "yaml"]);
                panic!("no UDP answer from a pod other than {previous:?}\n{ep}\n{}", cluster.rules());
            }
        }
    };
    let first = answer_other_than("");
    cluster.cluster.ok(&["delete", "pod", &first]);
    // The flow keeps going (a datagram every 300 ms keeps its conntrack entry alive): only
    // rk-proxy clearing the entry of the gone endpoint lets it reach the replacement.
    let second = answer_other_than(&first);
    let pods = cluster.cluster.ok(&["get", "pods", "-l", "app=echo", "-o", "name"]);
    assert!(pods.contains(&format!("pod/{second}")), "{second} answered; pods: {pods}");
}
