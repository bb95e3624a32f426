//! Walkthrough 2 of the README end to end: the hello service (examples/hello)
//! in its own namespace on a two-node cluster, reached by cluster IP from a
//! busybox pod, scaled by editing its replication controller, a container
//! stopped with docker and restarted, pods deleted under a Service that keeps
//! answering, and the Service's variables in a container.

mod common;

use common::nodes::{example, TwoNodes};
use common::tables::{fields as row, value};
use common::{eventually, text, Cluster};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

const NS: &str = "hello";

/// rkctl with `-n hello` after the command (before any `--`).
fn ok(cluster: &Cluster, args: &[&str]) -> String {
    cluster.ok(&[&args[..1], &["-n", NS], &args[1..]].concat())
}

#[derive(Debug, Clone)]
struct HelloPod {
    name: String,
    node: String,
    ip: String,
    phase: String,
    port: String,
    terminating: bool,
}

/// The app=hello pods, polled until `check` accepts them.
fn hello_pods(cluster: &Cluster, what: &str, check: impl Fn(&[HelloPod]) -> bool) -> Vec<HelloPod> {
    let path = "jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.podIP} {.status.phase} \
                {.spec.containers[0].ports[0].containerPort} {.metadata.deletionTimestamp}{\"\\n\"}{end}";
    let parse = |listing: &str| -> Vec<HelloPod> {
        listing
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split(' ').collect();
                let field = |i: usize| f.get(i).unwrap_or(&"").to_string();
                HelloPod {
                    name: field(0),
                    node: field(1),
                    ip: field(2),
                    phase: field(3),
                    port: field(4),
                    terminating: !field(5).is_empty(),
                }
            })
            .collect()
    };
    let args = ["get", "pods", "-n", NS, "-l", "app=hello", "-o", path];
    parse(&eventually(cluster, &args, what, |t| check(&parse(t))))
}

/// `count` requests from the client pod to `ip:port`, one connection each: the pod that
/// answered each, or None for a failure.
fn requests(cluster: &Cluster, ip: &str, port: &str, count: usize) -> Vec<Option<String>> {
    let script = format!(
        "i=0; while [ $i -lt {count} ]; do printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 {ip} {port} \
         | grep -o 'Hello from [^!]*' || echo FAILED; i=$((i+1)); done"
    );
    let out = ok(cluster, &["exec", "client", "--", "sh", "-c", &script]);
    let answers: Vec<Option<String>> = out.lines().map(|l| l.strip_prefix("Hello from ").map(String::from)).collect();
    assert_eq!(answers.len(), count, "{out}");
    answers
}

#[test]
fn hello_service_by_cluster_ip_scaled_restarted_and_thinned_keeps_answering() {
    let started = Instant::now();
    let nodes = TwoNodes::up();
    let cluster = &nodes.cluster;
    nodes.wait_ready();
    eprintln!("cluster up after {:?}", started.elapsed());

    let created = cluster.ok(&["create", "-f", &example("hello")]);
    assert_eq!(
        created,
        "namespace/hello created\nservice/hello created\npod/hello created\nreplicationcontroller/hello created\n"
    );
    let client = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: client\n  namespace: hello\nspec:\n  \
                  terminationGracePeriodSeconds: 1\n  containers:\n  - name: shell\n    image: rk/busybox:1.35\n    \
                  command: [sleep, '3600']\n";
    nodes.create("client", client);
    let pods = hello_pods(cluster, "the pod and the RC's one Running", |pods| {
        pods.len() == 2 && pods.iter().all(|p| p.phase == "Running")
    });
    assert!(pods.iter().any(|p| p.name == "hello"), "{pods:?}");
    eventually(cluster, &["get", "pods", "client", "-n", NS], "the client Running", |t| t.contains(" Running "));
    eprintln!("pods Running after {:?}", started.elapsed());

    // The Service, by cluster IP from a pod of the namespace, reaches the pods labelled app=hello.
    let cluster_ip = ok(cluster, &["get", "svc", "hello", "-o", "jsonpath={.spec.clusterIP}"]);
    let services = ok(cluster, &["get", "svc"]);
    assert_eq!(row(&services, "hello")[1..5], ["ClusterIP", &cluster_ip, "<none>", "80/TCP"], "{services}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while requests(cluster, &cluster_ip, "80", 1)[0].is_none() {
        assert!(Instant::now() < deadline, "{cluster_ip}:80 never answered the client");
    }
    let names: BTreeSet<String> = pods.iter().map(|p| p.name.clone()).collect();
    let answered: BTreeSet<String> = requests(cluster, &cluster_ip, "80", 20)
        .into_iter()
        .map(|a| a.expect("every request to the cluster IP is answered"))
        .collect();
    assert!(answered.is_subset(&names) && answered.contains("hello"), "{answered:?} answered, pods {names:?}");

    // Scaled from 1 to 3 by editing the RC's manifest (a status write meanwhile is a Conflict: get it again).
    for attempt in 1..=3 {
        let yaml = ok(cluster, &["get", "rc", "hello", "-o", "yaml"]);
        let (head, spec) = yaml.split_once("\nspec:\n").expect("a spec");
        assert!(spec.contains("  replicas: 1\n"), "{yaml}");
        let edited = format!("{head}\nspec:\n{}", spec.replacen("  replicas: 1\n", "  replicas: 3\n", 1));
        let out = cluster.rkctl_stdin(&["update", "-f", "-"], &edited);
        if out.status.success() {
            assert_eq!(text(&out.stdout), "replicationcontroller/hello replaced\n");
            break;
        }
        let error = text(&out.stderr);
        assert!(error.contains("(Conflict)") && attempt < 3, "{error}");
    }
    let rcs = eventually(cluster, &["get", "rc", "-n", NS], "3 desired, current and ready", |t| {
        t.contains("hello") && row(t, "hello")[1..4] == ["3", "3", "3"]
    });
    assert_eq!(row(&rcs, "NAME"), ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]);
    let pods = hello_pods(cluster, "four hello pods Running", |pods| {
        pods.len() == 4 && pods.iter().all(|p| p.phase == "Running" && !p.ip.is_empty())
    });
    eprintln!("scaled to 3 after {:?}", started.elapsed());

    // Every pod its own IP, all on the same port, each answering there as itself.
    let ips: BTreeSet<&str> = pods.iter().map(|p| p.ip.as_str()).collect();
    assert_eq!(ips.len(), 4, "{pods:?}");
    assert!(pods.iter().all(|p| p.port == "8080"), "{pods:?}");
    let wide = ok(cluster, &["get", "pods", "-o", "wide"]);
    assert_eq!(
        row(&wide, "NAME"),
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED", "NODE", "READINESS", "GATES"]
    );
    for pod in &pods {
        let line = row(&wide, &pod.name);
        assert_eq!([&line[1..4], &line[5..7]].concat(), ["1/1", "Running", "0", &pod.ip, &pod.node], "{wide}");
        assert_eq!(requests(cluster, &pod.ip, "8080", 1), [Some(pod.name.clone())], "{pod:?}");
    }
    let describe = ok(cluster, &["describe", "rc", "hello"]);
    assert_eq!(value(&describe, "Replicas:"), "3 current / 3 desired", "{describe}");
    assert_eq!(value(&describe, "Pods Status:"), "3 Running / 0 Waiting / 0 Succeeded / 0 Failed", "{describe}");
    let replicated: Vec<&HelloPod> = pods.iter().filter(|p| p.name != "hello").collect();
    for pod in &replicated {
        assert!(describe.contains(&format!("Created pod: {}", pod.name)), "{describe}");
    }
    assert!(describe.contains("SuccessfulCreate"), "{describe}");

    // `docker stop` on the pod's node: the kubelet starts the container again.
    let single = pods.iter().find(|p| p.name == "hello").unwrap();
    let k: u8 = single.node.trim_start_matches("node").parse().unwrap();
    let container = |attempt: &str| {
        let labels = ["io.rk.pod.namespace=hello", "io.rk.pod.name=hello", "io.rk.container.name=hello"];
        let mut args = vec!["ps".to_string(), "-q".to_string()];
        for label in labels.iter().copied().chain([attempt]) {
            args.extend(["--filter".to_string(), format!("label={label}")]);
        }
        let out = nodes.docker(k, &args.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(out.status.success(), "docker ps: {}", text(&out.stderr));
        text(&out.stdout).split_whitespace().map(String::from).collect::<Vec<_>>()
    };
    let ids = container("io.rk.container.attempt=0");
    assert_eq!(ids.len(), 1, "the hello container of pod hello on {}: {ids:?}", single.node);
    let out = nodes.docker(k, &["stop", "-t", "2", &ids[0]]);
    assert!(out.status.success(), "docker stop: {}", text(&out.stderr));
    let listing = eventually(cluster, &["get", "pods", "hello", "-n", NS], "RESTARTS 1", |t| {
        t.contains("hello") && row(t, "hello")[1..4] == ["1/1", "Running", "1"]
    });
    eprintln!("restarted after {:?}:\n{listing}", started.elapsed());
    assert_eq!(container("io.rk.container.attempt=1").len(), 1, "a new container, attempt 1");
    assert_eq!(requests(cluster, &single.ip, "8080", 1), [Some("hello".to_string())]);
    let describe = ok(cluster, &["describe", "pod", "hello"]);
    assert_eq!(value(&describe, "Node:"), format!("{}/{}", single.node, nodes.node_address(k)), "{describe}");
    assert_eq!(value(&describe, "Status:"), "Running");
    assert_eq!(value(&describe, "IP:"), single.ip, "the restart keeps the pod's IP");
    assert_eq!(value(&describe, "Restart Count:"), "1", "{describe}");
    assert_eq!(value(&describe, "Last State:"), "Terminated", "{describe}");
    // rk-hello exits 0 on docker stop's SIGTERM.
    assert_eq!((value(&describe, "Reason:"), value(&describe, "Exit Code:")), ("Completed", "0"), "{describe}");
    assert!(describe.contains(&format!("Successfully assigned hello/hello to {}", single.node)), "{describe}");
    assert!(describe.contains("Started container hello"), "{describe}");

    // Two of the three replicas deleted: the Service answers on, failures only until its Endpoints drop them.
    let deleted: Vec<String> = replicated[..2].iter().map(|p| p.name.clone()).collect();
    let out = ok(cluster, &["delete", "pod", &deleted[0], &deleted[1]]);
    assert_eq!(out, format!("pod \"{}\" deleted\npod \"{}\" deleted\n", deleted[0], deleted[1]));
    let (mut sent, mut failures) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(60);
    let endpoints = loop {
        let answers = requests(cluster, &cluster_ip, "80", 5);
        sent += answers.len();
        failures += answers.iter().filter(|a| a.is_none()).count();
        let path = "jsonpath={.subsets[*].addresses[*].targetRef.name}";
        let listing = ok(cluster, &["get", "ep", "hello", "-o", path]);
        let names: BTreeSet<String> = listing.split_whitespace().map(String::from).collect();
        if names.len() == 4 && !deleted.iter().any(|d| names.contains(d)) {
            break names;
        }
        assert!(Instant::now() < deadline, "the Endpoints never dropped {deleted:?}: {listing}");
    };
    eprintln!("{failures} of {sent} requests failed while two pods were deleted");
    let answered: Vec<String> = requests(cluster, &cluster_ip, "80", 20)
        .into_iter()
        .map(|a| a.expect("no failure once the Endpoints are updated"))
        .collect();
    assert!(answered.iter().all(|name| endpoints.contains(name)), "{answered:?} answered; endpoints {endpoints:?}");
    hello_pods(cluster, "the RC's replacements Running", |pods| {
        pods.len() == 4 && pods.iter().all(|p| p.phase == "Running" && !p.terminating && !deleted.contains(&p.name))
    });
    let describe = ok(cluster, &["describe", "rc", "hello"]);
    assert_eq!(value(&describe, "Replicas:"), "3 current / 3 desired", "{describe}");
    assert_eq!(describe.matches("Created pod: ").count(), 5, "1 + 2 for the scale-up + 2 replacements:\n{describe}");

    // The Service's variables in a container started after it: the busybox client's and the restarted hello's.
    let env = ok(cluster, &["exec", "client", "--", "env"]);
    let env: BTreeMap<&str, &str> = env.lines().filter_map(|l| l.split_once('=')).collect();
    let url = format!("tcp://{cluster_ip}:80");
    let expected = [
        ("HELLO_SERVICE_HOST", cluster_ip.as_str()),
        ("HELLO_SERVICE_PORT", "80"),
        ("HELLO_PORT", &url),
        ("HELLO_PORT_80_TCP", &url),
        ("HELLO_PORT_80_TCP_PROTO", "tcp"),
        ("HELLO_PORT_80_TCP_PORT", "80"),
        ("HELLO_PORT_80_TCP_ADDR", &cluster_ip),
    ];
    for (name, value) in expected {
        assert_eq!(env.get(name).copied(), Some(value), "{name} in the client's env: {env:?}");
    }
    let id = container("io.rk.container.attempt=1").remove(0);
    let out = nodes.docker(k, &["inspect", "-f", "{{range .Config.Env}}{{println .}}{{end}}", &id]);
    let hello_env = text(&out.stdout);
    for (name, value) in expected {
        assert!(
            hello_env.lines().any(|l| l == format!("{name}={value}")),
            "{name} in the hello container: {hello_env}"
        );
    }
    eprintln!("walkthrough 2 done after {:?}", started.elapsed());
}
