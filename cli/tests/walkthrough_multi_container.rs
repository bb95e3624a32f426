//! Walkthrough 4 of the README end to end: multi-container pods.
//! `rkctl create -f examples/multi-container` on a two-node cluster: an RC of
//! three pods, each the guestbook application and its Redis cache sharing
//! localhost, with a `cpu: 0.5` limit and env settings; a LoadBalancer Service
//! answering on its external IP from the host; `rkctl exec -i -t` into a
//! container; a deleted pod's replacement seen Pending, then Running.

mod common;

use common::http::get_until;
use common::nodes::{example, TwoNodes};
use common::tables::{assert_wide_shows, columns as row, has_line, pods, rc_settles};
use common::{address, eventually, text, Cluster};
use rk_testkit::lease_cluster_cidr;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// `GET /add?entry=...` once it answers: the pod that added it and how many
/// entries that pod's cache holds now.
fn add(address: SocketAddr, entry: &str) -> (String, u64) {
    let body = get_until(address, &format!("/add?entry={entry}"), 201);
    let added = body.trim().strip_prefix("pod ").and_then(|rest| rest.split_once(" added entry "));
    let (pod, n) = added.unwrap_or_else(|| panic!("an answer to /add: {body:?}"));
    (pod.to_string(), n.parse().unwrap())
}

/// `rkctl exec -i -t POD -c CONTAINER -- sh` on a pseudo-terminal (`script`),
/// `input` typed into it; what the terminal showed, and whether rkctl succeeded.
fn exec_tty(cluster: &Cluster, pod: &str, container: &str, input: &str) -> (bool, String) {
    let command = format!(
        "{} --state-dir {} exec {pod} -c {container} -i -t -- sh",
        common::rkctl_binary(),
        cluster.dir.path().display()
    );
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .env_remove("RK_SERVER")
        .env_remove("RK_STATE_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (chunks, received) = mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(n @ 1..) = stdout.read(&mut buffer) {
            if chunks.send(buffer[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut shown = Vec::new();
    // Typed once the shell's prompt shows: earlier input could be lost while
    // rkctl puts the terminal into raw mode.
    while !String::from_utf8_lossy(&shown).contains("# ") {
        match received.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(chunk) => shown.extend(chunk),
            Err(_) => break,
        }
    }
    let _ = stdin.write_all(input.as_bytes());
    // What follows, until `exit` ends the session and the terminal closes; stdin stays open till then.
    while let Ok(chunk) = received.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        shown.extend(chunk);
    }
    let status = loop {
        match child.try_wait().unwrap() {
            Some(status) => break status,
            None if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            None => {
                let _ = child.kill();
                panic!("exec -it did not end within 30 s; it showed:\n{}", text(&shown));
            }
        }
    };
    drop(stdin);
    let mut errors = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut errors);
    (status.success(), format!("{}{errors}", text(&shown)))
}

#[test]
fn multi_container_pods_share_localhost_answer_on_a_load_balancer_ip_and_a_deleted_pod_is_replaced() {
    let started = Instant::now();
    let range = lease_cluster_cidr();
    let nodes = TwoNodes::up_with(&[&format!("--load-balancer-ip-range={}", range.subnet(0))]);
    let cluster = &nodes.cluster;

    let created = cluster.ok(&["create", "-f", &example("multi-container")]);
    for object in ["service/cached-guestbook", "replicationcontroller/cached-guestbook"] {
        assert!(created.contains(&format!("{object} created")), "{object} in:\n{created}");
    }
    let wide = eventually(cluster, &["get", "pods", "-o", "wide"], "three pods Running, 2/2 ready", |t| {
        let lines: Vec<&str> = t.lines().skip(1).collect();
        lines.len() == 3
            && lines.iter().all(|l| l.split_whitespace().take(3).skip(1).collect::<Vec<_>>() == ["2/2", "Running"])
    });
    let before = pods(cluster);
    assert_eq!(before.len(), 3, "{before:?}");

    // Desired and actual state.
    rc_settles(cluster, "cached-guestbook", 3);
    assert_wide_shows(&wide, &before);
    for (name, [.., restarts]) in &before {
        assert_eq!((row(&wide, name)["READY"].as_str(), restarts.as_str()), ("2/2", "0"), "{name} in\n{wide}");
    }

    // The LoadBalancer Service gets an external IP from the range, shown by get svc.
    let path = "jsonpath={.status.loadBalancer.ingress[0].ip}";
    let ingress =
        eventually(cluster, &["get", "svc", "cached-guestbook", "-o", path], "an ingress IP", |ip| !ip.is_empty());
    assert!(ingress.starts_with(range.subnet(0).trim_end_matches("0/24")), "{ingress} not in {}", range.subnet(0));
    let svc = cluster.ok(&["get", "svc"]);
    let service = row(&svc, "cached-guestbook");
    assert_eq!(
        (service["TYPE"].as_str(), service["EXTERNAL-IP"].as_str()),
        ("LoadBalancer", ingress.as_str()),
        "{svc}"
    );
    assert!(service["PORT(S)"].starts_with("80:"), "{svc}");

    // End to end from the host through the ingress IP: each pod's application
    // adds to the cache beside it, so each pod counts its own entries.
    let lb = address(&ingress, "80");
    let path = "jsonpath={.subsets[*].addresses[*].ip}";
    eventually(cluster, &["get", "ep", "cached-guestbook", "-o", path], "the three pods in the Endpoints", |t| {
        t.split_whitespace().count() == 3
    });
    // 24 entries at least, more (up to 72) until a second pod has answered.
    let mut added: BTreeMap<String, u64> = BTreeMap::new();
    let mut made = 0;
    while made < 24 || (added.len() < 2 && made < 72) {
        let (pod, n) = add(lb, &format!("entry-{made}"));
        made += 1;
        assert!(before.contains_key(&pod), "{pod} is not one of {before:?}");
        *added.entry(pod.clone()).or_default() += 1;
        assert_eq!(n, added[&pod], "{pod}'s entries are its own: {added:?}");
    }
    assert!(added.len() >= 2, "several pods answer {made} requests on {ingress}: {added:?}");
    for (pod, count) in &added {
        let cached = cluster.ok(&["exec", pod, "-c", "cache", "--", "redis-cli", "LLEN", "guestbook"]);
        assert_eq!(cached.trim(), count.to_string(), "{pod}'s cache holds its entries");
    }

    // The limits and env settings reach the containers.
    let pod = before.keys().next().unwrap().clone();
    let node: u8 = before[&pod][0].trim_start_matches("node").parse().unwrap();
    let app = nodes.container(node, &pod, "app");
    let inspect =
        text(&nodes.docker(node, &["inspect", "-f", "{{.HostConfig.NanoCpus}} {{json .Config.Env}}", &app]).stdout);
    assert!(inspect.starts_with("500000000 "), "cpu: 0.5 is half a CPU: {inspect}");
    for variable in ["REDIS_ADDRESS=127.0.0.1:6379", "PORT=8080"] {
        assert!(inspect.contains(variable), "{variable} in the app's environment: {inspect}");
    }
    let cache = nodes.container(node, &pod, "cache");
    let inspect = text(&nodes.docker(node, &["inspect", "-f", "{{.HostConfig.NanoCpus}}", &cache]).stdout);
    assert_eq!(inspect.trim(), "100000000", "cpu: 100m");

    let describe = cluster.ok(&["describe", "pod", &pod]);
    for expected in [
        format!("Node: {}/{}", before[&pod][0], nodes.node_address(node)),
        format!("IP: {}", before[&pod][1]),
        "Status: Running".to_string(),
        "Controlled By: ReplicationController/cached-guestbook".to_string(),
        "app:".to_string(),
        "cache:".to_string(),
        "Image: rk/guestbook:1.0".to_string(),
        "Image: rk/redis:7".to_string(),
        "Limits:".to_string(),
        "cpu: 500m".to_string(),
        "memory: 64Mi".to_string(),
        "cpu: 100m".to_string(),
        "Environment:".to_string(),
        "REDIS_ADDRESS: 127.0.0.1:6379".to_string(),
        "PORT: 8080".to_string(),
        "State: Running".to_string(),
        "Restart Count: 0".to_string(),
        "Events:".to_string(),
    ] {
        assert!(has_line(&describe, &expected), "{expected:?} in describe pod:\n{describe}");
    }
    let describe = cluster.ok(&["describe", "svc", "cached-guestbook"]);
    for expected in ["Type: LoadBalancer", &format!("LoadBalancer Ingress: {ingress}"), "Endpoints:"] {
        assert!(has_line(&describe, expected), "{expected:?} in describe svc:\n{describe}");
    }

    // An interactive shell in the cache container, on a terminal: both
    // containers share the pod's hostname and localhost.
    let (ok, shown) =
        exec_tty(cluster, &pod, "cache", "echo $((6*7)) $(hostname); redis-cli -h 127.0.0.1 PING; exit\n");
    eprintln!("exec -i -t -c cache:\n{shown}");
    assert!(ok, "exec -i -t into cache: {shown}");
    assert!(shown.contains(&format!("42 {pod}")), "the shell's answer in:\n{shown}");
    assert!(shown.contains("PONG"), "the cache answers on the pod's localhost:\n{shown}");
    // And in the application's container, which answers on the same localhost.
    let (ok, shown) = exec_tty(cluster, &pod, "app", "wget -qO- http://127.0.0.1:8080/healthz; exit\n");
    eprintln!("exec -i -t -c app:\n{shown}");
    assert!(ok, "exec -i -t into app: {shown}");
    assert!(shown.lines().any(|line| line.trim() == "ok"), "the app's health answer in:\n{shown}");
    // A program the image lacks is an error that names it.
    let missing = cluster.rkctl(&["exec", &pod, "-c", "app", "--", "no-such-program"]);
    let shown = format!("{}{}", text(&missing.stdout), text(&missing.stderr));
    assert_eq!(missing.status.code(), Some(126), "{shown}");
    assert!(shown.contains("\"no-such-program\": executable file not found"), "{shown}");

    // A deleted pod's replacement is seen Pending, then Running.
    let mut watch = cluster.command().args(["get", "pods", "-w"]).stdout(Stdio::piped()).spawn().unwrap();
    let (lines, seen) = mpsc::channel();
    let stdout = watch.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let victim = before.keys().last().unwrap().clone();
    cluster.ok(&["delete", "pod", &victim]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut phases: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let replacement = loop {
        let line = seen.recv_timeout(deadline.saturating_duration_since(Instant::now()));
        let line = line.unwrap_or_else(|_| panic!("no replacement Running within 60 s: {phases:?}"));
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 3 || fields[0] == "NAME" || before.contains_key(fields[0]) {
            continue;
        }
        let statuses = phases.entry(fields[0].to_string()).or_default();
        if statuses.last().map(String::as_str) != Some(fields[2]) {
            statuses.push(fields[2].to_string());
        }
        if fields[2] == "Running" && fields[1] == "2/2" {
            break fields[0].to_string();
        }
    };
    let _ = watch.kill();
    let _ = watch.wait();
    eprintln!("the replacement's statuses, as get pods -w showed them: {phases:?}");
    let statuses = &phases[&replacement];
    assert_eq!(statuses.first().map(String::as_str), Some("Pending"), "the replacement first: {phases:?}");
    assert_eq!(statuses.last().map(String::as_str), Some("Running"), "{phases:?}");
    let after = eventually(cluster, &["get", "pods", "-o", "wide"], "three pods again, the victim gone", |t| {
        let lines: Vec<&str> = t.lines().skip(1).collect();
        lines.len() == 3 && !t.contains(&victim) && lines.iter().all(|l| l.contains(" 2/2 ") && l.contains(" Running "))
    });
    assert!(after.contains(&replacement), "{after}");
    let describe = cluster.ok(&["describe", "rc", "cached-guestbook"]);
    for expected in [
        "Replicas: 3 current / 3 desired".to_string(),
        "Pods Status: 3 Running".to_string(),
        format!("Created pod: {replacement}"),
    ] {
        assert!(
            describe.contains(&expected) || has_line(&describe, &expected),
            "{expected:?} in describe rc:\n{describe}"
        );
    }
    // The replacement answers through the load balancer too.
    let deadline = Instant::now() + Duration::from_secs(60);
    while add(lb, "after").0 != replacement {
        assert!(Instant::now() < deadline, "{replacement} never answered on {ingress}");
    }
    eprintln!("walkthrough 4 took {:?}", started.elapsed());
}
