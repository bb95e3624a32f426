//! Datasets end to end on a two-node cluster (node1 disktype=spinning,
//! node2 disktype=ssd): a Dataset used by a one-replica RC of busybox that
//! writes into it lands on node1; the RC switched to ssd and its pod deleted,
//! the new pod runs on node2 with every write of the old one, the last made
//! as it was stopped; spec.primary set to node1 brings pod and data back;
//! with node1 cut off, the dataset is Unavailable and a pod needing it waits
//! with that reason. And the README's walkthrough: the guestbook with its
//! Redis data on a dataset keeps its entries when Redis moves to the ssd node.

mod common;

use common::nodes::{example, TwoNodes};
use common::{eventually, text};
use std::process::Command;

const RC: &str = "apiVersion: v1
kind: ReplicationController
metadata:
  name: writer
spec:
  replicas: 1
  selector: {app: writer}
  template:
    metadata:
      labels: {app: writer}
    spec:
      terminationGracePeriodSeconds: 5
      nodeSelector: {disktype: spinning}
      volumes:
      - name: data
        dataset: {name: notes}
      containers:
      - name: writer
        image: rk/busybox:1.35
        command: [sh, -c, 'trap \"echo stopped $HOSTNAME >> /data/log; exit 0\" TERM; echo started $HOSTNAME >> /data/log; while true; do sleep 1 & wait; done']
        volumeMounts:
        - {name: data, mountPath: /data}
";

const DATASET: &str = "apiVersion: v1\nkind: Dataset\nmetadata:\n  name: notes\nspec: {}\n";

/// `node phase target` of the dataset.
fn dataset_state(nodes: &TwoNodes, want: &str) -> String {
    let path = "jsonpath={.status.node} {.status.phase} {.status.targetNode}";
    eventually(&nodes.cluster, &["get", "dataset", "notes", "-o", path], want, |t| t.trim() == want)
}

/// The writer pod running on `node`, once the only one: its name.
fn writer_on(nodes: &TwoNodes, node: &str) -> String {
    let path = "jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.phase}{\"\\n\"}{end}";
    let listing = eventually(&nodes.cluster, &["get", "pods", "-l", "app=writer", "-o", path], node, |t| {
        let lines: Vec<&str> = t.lines().collect();
        lines.len() == 1 && lines[0].ends_with(&format!(" {node} Running"))
    });
    listing.split_whitespace().next().unwrap().to_string()
}

fn set_primary(nodes: &TwoNodes, node: &str) {
    let json = nodes.cluster.ok(&["get", "dataset", "notes", "-o", "json"]);
    let mut dataset: serde_json::Value = serde_json::from_str(&json).unwrap();
    dataset["spec"]["primary"] = node.into();
    let out = nodes.cluster.rkctl_stdin(&["update", "-f", "-"], &dataset.to_string());
    assert!(out.status.success(), "{}", text(&out.stderr));
}

fn log_of(nodes: &TwoNodes, pod: &str) -> String {
    nodes.cluster.ok(&["exec", pod, "--", "cat", "/data/log"])
}

#[test]
fn a_dataset_follows_its_pod_between_nodes_and_waits_for_a_node_that_is_down() {
    let nodes = TwoNodes::up_with(&["--node-monitor-grace-period=3"]);
    let cluster = &nodes.cluster;
    nodes.create("dataset", DATASET);
    nodes.create("rc", RC);
    let first = writer_on(&nodes, "node1");
    dataset_state(&nodes, "node1 Ready");
    nodes.cluster.ok(&["exec", &first, "--", "sh", "-c", "echo written-on-node1 >> /data/log"]);

    // The RC goes to ssd; its pod deleted, the new one runs on node2 with the data.
    let yaml = cluster.ok(&["get", "rc", "writer", "-o", "yaml"]);
    let out = cluster.rkctl_stdin(&["update", "-f", "-"], &yaml.replace("disktype: spinning", "disktype: ssd"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    cluster.ok(&["delete", "pod", &first]);
    let second = writer_on(&nodes, "node2");
    dataset_state(&nodes, "node2 Ready");
    let log = log_of(&nodes, &second);
    for line in
        [format!("started {first}"), "written-on-node1".into(), format!("stopped {first}"), format!("started {second}")]
    {
        assert!(log.lines().any(|l| l == line), "{line:?} missing after the move:\n{log}");
    }
    let last_move = cluster.ok(&[
        "get",
        "dataset",
        "notes",
        "-o",
        "jsonpath={.status.lastMove.from} {.status.lastMove.to} {.status.lastMove.durationMs}",
    ]);
    let fields: Vec<&str> = last_move.split_whitespace().collect();
    assert_eq!(&fields[..2], ["node1", "node2"], "{last_move}");
    let described = cluster.ok(&["describe", "dataset", "notes"]);
    assert!(described.contains("DatasetMoved"), "{described}");
    // spec.primary set to node1 (the RC back on spinning first, so its replacement may go there):
    // the pod on node2 is deleted, pod and data move back.
    let yaml = cluster.ok(&["get", "rc", "writer", "-o", "yaml"]);
    let out = cluster.rkctl_stdin(&["update", "-f", "-"], &yaml.replace("disktype: ssd", "disktype: spinning"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    set_primary(&nodes, "node1");
    let third = writer_on(&nodes, "node1");
    dataset_state(&nodes, "node1 Ready");
    let log = log_of(&nodes, &third);
    assert!(log.contains(&format!("stopped {second}")) && log.contains("written-on-node1"), "{log}");

    // node1 cut off: Unavailable, and a pod needing the dataset waits with that reason.
    let link = nodes.link(1);
    let set_link =
        |state: &str| assert!(Command::new("ip").args(["link", "set", &link, state]).status().unwrap().success());
    set_link("down");
    let reason = eventually(
        cluster,
        &["get", "dataset", "notes", "-o", "jsonpath={.status.phase} {.status.message}"],
        "Unavailable",
        |t| t.starts_with("Unavailable"),
    );
    assert!(reason.contains("node node1 is not ready"), "{reason}");
    let reader = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: reader\nspec:\n  terminationGracePeriodSeconds: 1\n  nodeSelector: {disktype: ssd}\n  volumes:\n  - name: data\n    dataset: {name: notes}\n  containers:\n  - name: reader\n    image: rk/busybox:1.35\n    command: [cat, /data/log]\n    volumeMounts:\n    - {name: data, mountPath: /data}\n";
    // The primary moved to node2 so the reader may be placed there: the data cannot follow.
    set_primary(&nodes, "node2");
    nodes.create("reader", reader);
    let waiting = eventually(
        cluster,
        &["get", "pod", "reader", "-o", "jsonpath={.status.phase} {.status.containerStatuses[0].state.waiting.reason}: {.status.containerStatuses[0].state.waiting.message}"],
        "reader waiting for the dataset",
        |t| t.contains("DatasetUnavailable"),
    );
    assert!(waiting.starts_with("Pending") && waiting.contains("node node1 is not ready"), "{waiting}");
    set_link("up");
}

/// `curl` against the guestbook's node port on node `k` until it succeeds (bounded): its output.
fn guestbook(nodes: &TwoNodes, k: u8, extra: &[&str], check: impl Fn(&str) -> bool) -> String {
    let url = format!("http://{}:30080/entries", nodes.node_address(k));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let out = Command::new("curl").args(["-s", "-f", "-m", "3"]).args(extra).arg(&url).output().unwrap();
        let body = text(&out.stdout);
        if out.status.success() && check(&body) {
            return body;
        }
        assert!(std::time::Instant::now() < deadline, "guestbook on node{k}: {body}{}", text(&out.stderr));
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn the_guestbook_keeps_its_entries_when_redis_moves_to_the_ssd_node() {
    let nodes = TwoNodes::up();
    let cluster = &nodes.cluster;
    cluster.ok(&["create", "-f", &example("guestbook-dataset")]);
    eventually(
        cluster,
        &["get", "dataset", "redis-data", "-o", "jsonpath={.status.node} {.status.phase}"],
        "on node1",
        |t| t.trim() == "node1 Ready",
    );
    guestbook(&nodes, 1, &["-d", "entry=Hello"], |body| body.contains("added entry"));
    guestbook(&nodes, 2, &["-d", "entry=again"], |body| body.contains("added entry"));

    let yaml = cluster.ok(&["get", "rc", "redis-master", "-o", "yaml"]);
    let out = cluster.rkctl_stdin(&["update", "-f", "-"], &yaml.replace("disktype: spinning", "disktype: ssd"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    cluster.ok(&["delete", "pod", "-l", "app=redis,role=master"]);
    eventually(
        cluster,
        &["get", "dataset", "redis-data", "-o", "jsonpath={.status.node} {.status.phase}"],
        "on node2",
        |t| t.trim() == "node2 Ready",
    );
    let entries = guestbook(&nodes, 1, &[], |body| body.contains("Hello"));
    assert!(entries.contains("again"), "entries after the move: {entries}");
    cluster.ok(&["delete", "-f", &example("guestbook-dataset")]);
}
