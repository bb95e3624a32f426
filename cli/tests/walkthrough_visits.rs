//! Walkthrough 3 of the README end to end: web servers and a database.
//! `rkctl create -f examples/visits` on a two-node cluster: three visit
//! counters behind the NodePort Service on 30001, Redis with a hostPath volume
//! behind `db-service`; visits are counted per pod; a killed web container
//! restarts (RESTARTS 1); the database's node stopped and started again brings
//! the same pods back and the counts are still there.

mod common;

use common::http::get_until;
use common::nodes::{example, TwoNodes};
use common::tables::{assert_wide_shows, columns as row, has_line, pods, rc_settles};
use common::{address, eventually, text, Cluster};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// A visit to `/` once it answers: the `pod NAME: visit N` of its answer.
fn visit(address: SocketAddr) -> (String, u64) {
    let body = get_until(address, "/", 200);
    let (pod, n) = body.trim().strip_prefix("pod ").and_then(|rest| rest.split_once(": visit ")).unwrap();
    (pod.to_string(), n.parse().unwrap())
}

/// Every pod's count, from `/counts` once it answers.
fn counts(address: SocketAddr) -> BTreeMap<String, u64> {
    get_until(address, "/counts", 200)
        .lines()
        .map(|line| {
            let (pod, n) = line.split_once(": ").unwrap_or_else(|| panic!("a count line: {line:?}"));
            (pod.to_string(), n.parse().unwrap())
        })
        .collect()
}

/// Waits until there are `count` pods, each Running with all its containers ready; `get pods -o wide`.
fn all_running(cluster: &Cluster, count: usize) -> String {
    eventually(cluster, &["get", "pods", "-o", "wide"], &format!("{count} pods Running and ready"), |t| {
        let lines: Vec<&str> = t.lines().skip(1).collect();
        lines.len() == count
            && lines.iter().all(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f.get(2) == Some(&"Running") && f[1].split_once('/').is_some_and(|(a, b)| a == b)
            })
    })
}

/// examples/visits with the database's hostPath moved into `dir`: test
/// clusters running at once must not share one database directory.
fn visits_manifests(cluster: &Cluster, data: &str) -> String {
    let source = example("visits");
    let target = cluster.dir.path().join("visits");
    std::fs::create_dir(&target).unwrap();
    let mut rewritten = false;
    for entry in std::fs::read_dir(&source).unwrap() {
        let entry = entry.unwrap();
        let mut manifest = std::fs::read_to_string(entry.path()).unwrap();
        if manifest.contains("path: /var/lib/rk-examples/visits-db") {
            manifest = manifest.replace("path: /var/lib/rk-examples/visits-db", &format!("path: {data}"));
            rewritten = true;
        }
        std::fs::write(target.join(entry.file_name()), manifest).unwrap();
    }
    assert!(rewritten, "the example's hostPath is /var/lib/rk-examples/visits-db");
    target.display().to_string()
}

/// SIGKILLs a component and waits until its process is gone, reaped too: a
/// dockerd started again refuses to while its pid file names a living process.
fn stop(cluster: &Cluster, component: &str) {
    let pid = std::fs::read_to_string(cluster.dir.path().join(format!("{component}.pid"))).unwrap();
    cluster.kill(component);
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::path::Path::new(&format!("/proc/{}", pid.trim())).exists() {
        assert!(Instant::now() < deadline, "{component} ({}) never went away", pid.trim());
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn node_index(node: &str) -> u8 {
    node.strip_prefix("node").and_then(|k| k.parse().ok()).unwrap_or_else(|| panic!("a node name: {node}"))
}

#[test]
fn visits_are_counted_per_pod_a_killed_web_server_restarts_and_a_restarted_node_keeps_the_counts() {
    let started = Instant::now();
    let nodes = TwoNodes::up();
    let cluster = &nodes.cluster;
    let data = cluster.dir.path().join("visits-db").display().to_string();
    let dir = visits_manifests(cluster, &data);

    let created = cluster.ok(&["create", "-f", &dir]);
    for object in ["service/db-service", "pod/db", "service/web", "replicationcontroller/web"] {
        assert!(created.contains(&format!("{object} created")), "{object} in:\n{created}");
    }
    let wide = all_running(cluster, 4);
    let before = pods(cluster);
    let web: Vec<&String> = before.keys().filter(|name| name.starts_with("web-")).collect();
    assert_eq!(web.len(), 3, "three web pods: {before:?}");
    assert!(before.contains_key("db"), "{before:?}");

    // Desired and actual state: the RC's three columns, the pods' node, IP and restarts.
    rc_settles(cluster, "web", 3);
    assert_wide_shows(&wide, &before);
    for (name, [.., restarts]) in &before {
        assert_eq!(restarts, "0", "{name}");
    }
    let svc = cluster.ok(&["get", "svc", "web"]);
    assert!(row(&svc, "web")["PORT(S)"].starts_with("80:30001/TCP"), "{svc}");
    assert_eq!(row(&svc, "web")["TYPE"], "NodePort");

    // Visits through both nodes' port 30001, counted per pod in the database.
    let targets = [address(&nodes.node_address(1), "30001"), address(&nodes.node_address(2), "30001")];
    let path = "jsonpath={.subsets[*].addresses[*].ip}";
    eventually(cluster, &["get", "ep", "web", "-o", path], "the three web pods in web's Endpoints", |t| {
        t.split_whitespace().count() == 3
    });
    // 30 visits at least, more (for up to 30 s) until a second pod has answered:
    // the proxies learn the Endpoints a moment after the Endpoints controller,
    // longer on a loaded machine.
    let mut answered: BTreeMap<String, u64> = BTreeMap::new();
    let (mut made, visiting) = (0, Instant::now());
    while made < 30 || (answered.len() < 2 && visiting.elapsed() < Duration::from_secs(30)) {
        if made >= 30 {
            std::thread::sleep(Duration::from_millis(100));
        }
        let (pod, n) = visit(targets[made % 2]);
        made += 1;
        assert!(web.contains(&&pod), "{pod} is not a web pod: {web:?}");
        *answered.entry(pod.clone()).or_default() += 1;
        assert_eq!(n, answered[&pod], "{pod}'s visits are counted one by one");
    }
    assert!(answered.len() >= 2, "several pods answer {made} requests: {answered:?}");
    assert_eq!(counts(targets[0]), answered, "/counts holds every pod's visits");
    assert_eq!(counts(targets[0]).values().sum::<u64>(), made as u64);
    // Redis keeps its append-only file in the hostPath directory on the node.
    let aof = std::path::Path::new(&data).join("appendonlydir");
    let files = std::fs::read_dir(&aof).map(|d| d.count()).unwrap_or(0);
    assert!(files > 0, "the database writes its append-only file into its hostPath: {}", aof.display());

    // A killed web server container restarts, and its pod's RESTARTS goes to 1.
    let victim = web[0].clone();
    let victim_node = node_index(&before[&victim][0]);
    let killed = nodes.container(victim_node, &victim, "web");
    let out = nodes.docker(victim_node, &["kill", &killed]);
    assert!(out.status.success(), "docker kill: {}", text(&out.stderr));
    let wide = eventually(cluster, &["get", "pods", "-o", "wide"], &format!("{victim} restarted"), |t| {
        t.lines().skip(1).any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f[0] == victim && f[1] == "1/1" && f[2] == "Running" && f[3] == "1"
        })
    });
    assert_ne!(nodes.container(victim_node, &victim, "web"), killed, "a new container runs");
    for (name, [node, ip, ..]) in &before {
        let row = row(&wide, name);
        assert_eq!((&row["NODE"], &row["IP"]), (node, ip), "{name} keeps its node and IP:\n{wide}");
        let restarts = if *name == victim { "1" } else { "0" };
        assert_eq!(row["RESTARTS"], restarts, "{name}:\n{wide}");
    }

    // describe shows the spec beside the status and the events.
    let describe = cluster.ok(&["describe", "pod", &victim]);
    for expected in [
        "Image: rk/visits:1.0".to_string(),
        "Liveness: http-get".to_string(),
        "Requests:".to_string(),
        "cpu: 100m".to_string(),
        "memory: 32Mi".to_string(),
        format!("Node: {}/{}", before[&victim][0], nodes.node_address(victim_node)),
        format!("IP: {}", before[&victim][1]),
        "Status: Running".to_string(),
        "State: Running".to_string(),
        "Last State: Terminated".to_string(),
        "Exit Code: 137".to_string(),
        "Restart Count: 1".to_string(),
        "Ready: True".to_string(),
        "Events:".to_string(),
    ] {
        assert!(has_line(&describe, &expected), "{expected:?} in describe pod:\n{describe}");
    }
    let describe = cluster.ok(&["describe", "rc", "web"]);
    for expected in ["Replicas: 3 current / 3 desired", "Pods Status: 3 Running", "Image: rk/visits:1.0", "Events:"] {
        assert!(has_line(&describe, expected), "{expected:?} in describe rc:\n{describe}");
    }
    let describe = cluster.ok(&["describe", "pod", "db"]);
    let path = format!("Path: {data}");
    for expected in ["Type: HostPath", &path, "/data from data", "Events:"] {
        assert!(has_line(&describe, expected), "{expected:?} in describe pod db:\n{describe}");
    }

    // Stop the database's node (its kubelet and dockerd) and start it again.
    let db_node = node_index(&before["db"][0]);
    let db_container = nodes.container(db_node, "db", "redis");
    for component in ["rk-kubelet", "dockerd"] {
        stop(cluster, &format!("node{db_node}-{component}"));
    }
    cluster.start_missing();
    let wide = eventually(cluster, &["get", "pods", "-o", "wide"], "the node's pods running again", |t| {
        let after = pods(cluster);
        t.lines().skip(1).count() == 4
            && after.keys().eq(before.keys())
            && after.get("db").is_some_and(|[_, _, phase, restarts]| phase == "Running" && restarts != "0")
            && t.lines().skip(1).all(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f[2] == "Running" && f[1] == "1/1"
            })
    });
    assert_ne!(nodes.container(db_node, "db", "redis"), db_container, "the database runs in a new container");
    let after = pods(cluster);
    assert_eq!(after.keys().collect::<Vec<_>>(), before.keys().collect::<Vec<_>>(), "the same pods:\n{wide}");
    for (name, [node, ..]) in &after {
        assert_eq!(node, &before[name][0], "{name} stays on its node:\n{wide}");
    }
    // The counts outlived the database container: its append-only file is on the node.
    let kept = counts(targets[1]);
    assert_eq!(kept, answered, "the database still holds the counts");
    let (pod, n) = visit(targets[0]);
    assert_eq!(n, answered.get(&pod).copied().unwrap_or(0) + 1, "{pod} counts on from where it was");
    eprintln!("walkthrough 3 took {:?}", started.elapsed());
}
