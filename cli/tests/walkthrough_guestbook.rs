//! Walkthrough 1 of the README end to end: the guestbook (examples/guestbook)
//! on a two-node cluster, then its Redis master moved from the spinning node
//! to the ssd node by editing the replication controller and deleting the pod.

mod common;

use common::nodes::{example, TwoNodes};
use common::tables::{fields as row, value};
use common::{address, eventually, text, Cluster};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const REDIS: &str = "app=redis,role=master";
const FRONTENDS: &str = "app=guestbook,tier=frontend";

/// One HTTP/1.0 request with a form body: (status, body).
fn http(address: SocketAddr, method: &str, path: &str, form: &str) -> Result<(u16, String), String> {
    common::http::request(address, method, path, form).map_err(|e| format!("{method} {address}{path}: {e}"))
}

/// Retries `attempt` every 200 ms until it succeeds, for at most `limit`.
fn until<T>(what: &str, limit: Duration, mut attempt: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        match attempt() {
            Ok(value) => return value,
            Err(last) => assert!(Instant::now() < deadline, "timed out waiting for {what}: {last}"),
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `status` and `body` of a request that must answer with `expected`.
fn expect(address: SocketAddr, method: &str, path: &str, form: &str, expected: u16) -> Result<String, String> {
    match http(address, method, path, form)? {
        (status, body) if status == expected => Ok(body),
        (status, body) => Err(format!("{method} {address}{path}: {status} {body}")),
    }
}

/// The entries, once requests through both nodes' port 30080 all answer alike. Each frontend
/// pod reaches Redis through its own node's proxy, and the proxies learn Redis's endpoint
/// independently. Requests through either node land on any pod, so a dozen in a row almost
/// surely pass every pod.
fn entries_through_every_pod(node1: SocketAddr, node2: SocketAddr) -> String {
    until("every frontend pod reaching Redis", Duration::from_secs(30), || {
        let mut answers = Vec::new();
        for node in [node1, node2].repeat(6) {
            answers.push(expect(node, "GET", "/entries", "", 200)?);
        }
        answers.dedup();
        match answers.as_slice() {
            [entries] => Ok(entries.clone()),
            _ => Err(format!("different entries: {answers:?}")),
        }
    })
}

/// Replaces the RC by `edit` of its current YAML, as a person would; a status write by the
/// controller between get and update is a Conflict, after which they get it again.
fn edit_rc(cluster: &Cluster, name: &str, edit: impl Fn(&str) -> String) {
    for attempt in 1..=3 {
        let yaml = cluster.ok(&["get", "rc", name, "-o", "yaml"]);
        let out = cluster.rkctl_stdin(&["update", "-f", "-"], &edit(&yaml));
        if out.status.success() {
            assert_eq!(text(&out.stdout), format!("replicationcontroller/{name} replaced\n"));
            return;
        }
        let error = text(&out.stderr);
        assert!(error.contains("(Conflict)") && attempt < 3, "update of rc {name} failed: {error}");
    }
}

/// The pods of `selector` as (name, node, IP, phase) lines, polled until `check` accepts them.
fn pods_until(
    cluster: &Cluster,
    selector: &str,
    what: &str,
    check: impl Fn(&[Vec<String>]) -> bool,
) -> Vec<Vec<String>> {
    let path =
        "jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.podIP} {.status.phase}{\"\\n\"}{end}";
    let listing = eventually(cluster, &["get", "pods", "-l", selector, "-o", path], what, |t| {
        check(&t.lines().map(|l| l.split_whitespace().map(String::from).collect()).collect::<Vec<_>>())
    });
    listing.lines().map(|l| l.split_whitespace().map(String::from).collect()).collect()
}

#[test]
fn guestbook_answers_on_both_nodes_and_follows_its_database_to_the_ssd_node() {
    let started = Instant::now();
    let nodes = TwoNodes::up();
    let cluster = &nodes.cluster;
    nodes.wait_ready();
    eprintln!("cluster up after {:?}", started.elapsed());

    let created = cluster.ok(&["create", "-f", &example("guestbook")]);
    assert_eq!(
        created,
        "service/redis-master created\nreplicationcontroller/redis-master created\n\
         service/frontend created\nreplicationcontroller/frontend created\n"
    );
    let redis_ip_of_service = cluster.ok(&["get", "svc", "redis-master", "-o", "jsonpath={.spec.clusterIP}"]);
    assert_eq!(cluster.ok(&["get", "svc", "frontend", "-o", "jsonpath={.spec.ports[0].nodePort}"]), "30080");

    // The Redis master runs on the spinning node, three frontends anywhere.
    let redis = pods_until(cluster, REDIS, "redis-master Running", |pods| {
        pods.len() == 1 && pods[0].len() == 4 && pods[0][3] == "Running"
    })
    .remove(0);
    let (redis_pod, redis_ip) = (redis[0].clone(), redis[2].clone());
    assert_eq!(redis[1], "node1", "nodeSelector disktype=spinning: {redis:?}");
    eventually(cluster, &["get", "pods", "-l", FRONTENDS], "three frontends ready", |t| {
        t.lines().filter(|l| l.contains(" 1/1 ") && l.contains(" Running ")).count() == 3
    });
    eprintln!("guestbook Running after {:?}", started.elapsed());

    // Entries written through the frontend Service on either node's port 30080 are read back on both.
    let (node1, node2) = (address(&nodes.node_address(1), "30080"), address(&nodes.node_address(2), "30080"));
    assert_eq!(entries_through_every_pod(node1, node2), "");
    let added = expect(node1, "POST", "/entries", "entry=Hello+from+node1%21", 201).unwrap();
    assert!(added.starts_with("pod frontend-") && added.ends_with(" added entry 1\n"), "{added}");
    let added = expect(node2, "POST", "/entries", "entry=second+entry", 201).unwrap();
    assert!(added.ends_with(" added entry 2\n"), "{added}");
    for node in [node1, node2] {
        assert_eq!(expect(node, "GET", "/entries", "", 200).unwrap(), "Hello from node1!\nsecond entry\n");
        let page = expect(node, "GET", "/", "", 200).unwrap();
        assert!(page.contains("<li>Hello from node1!</li>") && page.contains("Served by pod frontend-"), "{page}");
    }
    eprintln!("guestbook answering after {:?}", started.elapsed());

    // Desired beside actual: DESIRED/CURRENT/READY, NODE/IP/RESTARTS, spec, status and events.
    let rcs = eventually(cluster, &["get", "rc"], "both RCs ready", |t| {
        t.contains("redis-master")
            && row(t, "frontend")[1..4] == ["3", "3", "3"]
            && row(t, "redis-master")[1..4] == ["1", "1", "1"]
    });
    assert_eq!(row(&rcs, "NAME"), ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]);
    let wide = cluster.ok(&["get", "pods", "-o", "wide"]);
    assert_eq!(
        row(&wide, "NAME"),
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED", "NODE", "READINESS", "GATES"]
    );
    let line = row(&wide, &redis_pod);
    assert_eq!([&line[1..4], &line[5..7]].concat(), ["1/1", "Running", "0", &redis_ip, "node1"], "{wide}");
    let describe = cluster.ok(&["describe", "rc", "redis-master"]);
    assert_eq!(value(&describe, "Replicas:"), "1 current / 1 desired", "{describe}");
    assert_eq!(value(&describe, "Pods Status:"), "1 Running / 0 Waiting / 0 Succeeded / 0 Failed");
    assert_eq!(value(&describe, "Node-Selectors:"), "disktype=spinning", "the template's: {describe}");
    assert!(describe.contains("SuccessfulCreate") && describe.contains(&format!("Created pod: {redis_pod}")));
    let describe = cluster.ok(&["describe", "pod", &redis_pod]);
    assert_eq!(value(&describe, "Node:"), format!("node1/{}", nodes.node_address(1)), "{describe}");
    assert_eq!(value(&describe, "Status:"), "Running");
    assert_eq!(value(&describe, "IP:"), redis_ip);
    assert_eq!(value(&describe, "Controlled By:"), "ReplicationController/redis-master");
    assert_eq!(value(&describe, "Node-Selectors:"), "disktype=spinning");
    assert!(describe.contains(&format!("Successfully assigned default/{redis_pod} to node1")), "{describe}");
    assert!(describe.contains("Started container master"), "{describe}");

    // The move: the RC's template now selects ssd; its running pod stays where it is.
    let stale = cluster.ok(&["get", "rc", "redis-master", "-o", "yaml"]);
    assert!(stale.contains("disktype: spinning"), "{stale}");
    edit_rc(cluster, "redis-master", |yaml| yaml.replace("disktype: spinning", "disktype: ssd"));
    let selector = "jsonpath={.spec.template.spec.nodeSelector.disktype}";
    assert_eq!(cluster.ok(&["get", "rc", "redis-master", "-o", selector]), "ssd");
    // The YAML from before that change is stale: a Conflict, and nothing changes.
    let error = text(&cluster.rkctl_stdin(&["update", "-f", "-"], &stale).stderr);
    assert!(error.starts_with("Error from server (Conflict): "), "{error}");
    assert_eq!(cluster.ok(&["get", "rc", "redis-master", "-o", selector]), "ssd");
    let same =
        cluster.ok(&["get", "pods", "-l", REDIS, "-o", "jsonpath={.items[*].metadata.name} {.items[*].spec.nodeName}"]);
    assert_eq!(same, format!("{redis_pod} node1"), "a template change leaves running pods alone");

    let moved = Instant::now();
    assert_eq!(cluster.ok(&["delete", "pod", "-l", REDIS]), format!("pod \"{redis_pod}\" deleted\n"));
    let redis = pods_until(cluster, REDIS, "a new redis-master Running", |pods| {
        pods.len() == 1 && pods[0].len() == 4 && pods[0][0] != redis_pod && pods[0][3] == "Running"
    })
    .remove(0);
    let (new_pod, new_ip) = (redis[0].clone(), redis[2].clone());
    assert_eq!(redis[1], "node2", "the new template's disktype=ssd: {redis:?}");
    // The same Service, now in front of the new pod.
    assert_eq!(cluster.ok(&["get", "svc", "redis-master", "-o", "jsonpath={.spec.clusterIP}"]), redis_ip_of_service);
    eventually(
        cluster,
        &["get", "ep", "redis-master", "-o", "jsonpath={.subsets[*].addresses[*].ip}"],
        "endpoints",
        |t| t == new_ip,
    );
    // The data was an emptyDir of the old pod: the guestbook answers again, empty.
    let entries = entries_through_every_pod(node1, node2);
    eprintln!("guestbook answering {:?} after the delete", moved.elapsed());
    assert_eq!(entries, "", "the old entries went with the old pod's emptyDir");
    let added = expect(node2, "POST", "/entries", "entry=after+the+move", 201).unwrap();
    assert!(added.ends_with(" added entry 1\n"), "{added}");
    for node in [node1, node2] {
        assert_eq!(expect(node, "GET", "/entries", "", 200).unwrap(), "after the move\n");
    }

    let describe = cluster.ok(&["describe", "pod", &new_pod]);
    assert_eq!(value(&describe, "Node:"), format!("node2/{}", nodes.node_address(2)), "{describe}");
    assert_eq!(value(&describe, "Node-Selectors:"), "disktype=ssd");
    assert!(describe.contains(&format!("Successfully assigned default/{new_pod} to node2")), "{describe}");
    let describe = cluster.ok(&["describe", "rc", "redis-master"]);
    assert_eq!(value(&describe, "Replicas:"), "1 current / 1 desired", "{describe}");
    assert_eq!(value(&describe, "Node-Selectors:"), "disktype=ssd", "{describe}");
    assert!(describe.contains(&format!("Created pod: {new_pod}")), "{describe}");
    eventually(cluster, &["get", "pods", "-l", REDIS], "the old pod gone", |t| !t.contains(&redis_pod));
    let wide = cluster.ok(&["get", "pods", "-o", "wide"]);
    let line = row(&wide, &new_pod);
    assert_eq!([&line[1..4], &line[5..7]].concat(), ["1/1", "Running", "0", &new_ip, "node2"], "{wide}");
    eprintln!("walkthrough 1 done after {:?}", started.elapsed());
}
