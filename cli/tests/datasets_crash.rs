//! Datasets survive crashes: a dataset of 200 MB of random data (and a small
//! marker) used by a one-replica RC of busybox moves from node1 to node2 while
//! node2's kubelet (the target) is SIGKILLed mid-move and restarted, then back
//! while node2's kubelet (now the source) and the controller-manager are killed
//! and restarted. Each move
//! converges: the new pod runs on the other node with the same checksum, the
//! old node's copy and every staging directory are gone, and at every look
//! in between at least one copy was there; the pull cut off by the crash
//! resumed (less than the whole blob sent). Then a second pod using the
//! dataset on the same node waits (DatasetInUse, naming the first) until the
//! first is gone.

mod common;

use common::nodes::TwoNodes;
use common::text;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const RC: &str = "apiVersion: v1
kind: ReplicationController
metadata:
  name: blobs
spec:
  replicas: 1
  selector: {app: blobs}
  template:
    metadata:
      labels: {app: blobs}
    spec:
      terminationGracePeriodSeconds: 10
      nodeSelector: {disktype: spinning}
      volumes:
      - name: data
        dataset: {name: blob}
      containers:
      - name: blobs
        image: rk/busybox:1.35
        command: [sh, -c, 'trap \"sleep 2; exit 0\" TERM; [ -f /data/blob ] || { dd if=/dev/urandom of=/data/blob.part bs=1M count=200 2>/dev/null && mv /data/blob.part /data/blob && echo marker > /data/marker; }; while true; do sleep 1 & wait; done']
        volumeMounts:
        - {name: data, mountPath: /data}
";

const DATASET: &str = "apiVersion: v1\nkind: Dataset\nmetadata:\n  name: blob\nspec: {}\n";

/// Whether the dataset's data was made (from then on some node holds it).
static MADE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

const DEADLINE: Duration = Duration::from_secs(90);

/// Node `k`'s copy of the dataset and its staging directory for a move there.
fn copy_dir(nodes: &TwoNodes, k: u8) -> PathBuf {
    nodes.cluster.dir.path().join(format!("node{k}/kubelet/datasets/default/blob"))
}

fn staging_dir(nodes: &TwoNodes, k: u8) -> PathBuf {
    nodes.cluster.dir.path().join(format!("node{k}/kubelet/datasets/.incoming/default/blob"))
}

/// Asserts that some node holds a copy (never none).
fn some_copy(nodes: &TwoNodes) {
    assert!(copy_dir(nodes, 1).exists() || copy_dir(nodes, 2).exists(), "no node holds the dataset's data");
}

/// Polls `rkctl args` (once the data was made, asserting a copy exists at each look) until
/// `check` accepts its output.
fn until(nodes: &TwoNodes, args: &[&str], what: &str, check: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if MADE.load(std::sync::atomic::Ordering::SeqCst) {
            some_copy(nodes);
        }
        let out = nodes.cluster.rkctl(args);
        let stdout = text(&out.stdout);
        if out.status.success() && check(&stdout) {
            return stdout;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}; last output:\n{stdout}{}", text(&out.stderr));
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The blobs pod running on `node`, once the only one: its name.
fn pod_on(nodes: &TwoNodes, node: &str) -> String {
    let path = "jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.phase}{\"\\n\"}{end}";
    let listing = until(nodes, &["get", "pods", "-l", "app=blobs", "-o", path], &format!("blobs on {node}"), |t| {
        let lines: Vec<&str> = t.lines().collect();
        lines.len() == 1 && lines[0].ends_with(&format!(" {node} Running"))
    });
    listing.split_whitespace().next().unwrap().to_string()
}

fn dataset_state(nodes: &TwoNodes, want: &str) {
    let path = "jsonpath={.status.node} {.status.phase} {.status.targetNode}";
    until(nodes, &["get", "dataset", "blob", "-o", path], want, |t| t.trim() == want);
}

/// `md5sum` of the blob and the marker, read in the pod.
fn contents(nodes: &TwoNodes, pod: &str) -> String {
    nodes.cluster.ok(&["exec", pod, "--", "sh", "-c", "md5sum /data/blob && cat /data/marker"])
}

/// Switches the RC's nodeSelector from `from` to `to`, deletes `pod` and, once the
/// dataset is Moving, SIGKILLs the `victims` (processes of the cluster) and starts them again.
fn move_with_a_crash(nodes: &TwoNodes, pod: &str, from: &str, to: &str, victims: &[&str]) {
    let cluster = &nodes.cluster;
    let yaml = cluster.ok(&["get", "rc", "blobs", "-o", "yaml"]);
    let out = cluster
        .rkctl_stdin(&["update", "-f", "-"], &yaml.replace(&format!("disktype: {from}"), &format!("disktype: {to}")));
    assert!(out.status.success(), "{}", text(&out.stderr));
    cluster.ok(&["delete", "pod", pod]);
    until(nodes, &["get", "dataset", "blob", "-o", "jsonpath={.status.phase}"], "Moving", |t| t.trim() == "Moving");
    // The target has copied some of the data: its staging directory stays until the final pass, which
    // waits for the old pod (it takes 2 s to stop).
    let target = if to == "ssd" { 2 } else { 1 };
    let deadline = Instant::now() + DEADLINE;
    while staged_bytes(&staging_dir(nodes, target)) < 32 << 20 {
        assert!(Instant::now() < deadline, "node{target} never copied 32 MiB");
        std::thread::sleep(Duration::from_millis(20));
    }
    let staged = staged_bytes(&staging_dir(nodes, target));
    eprintln!("killing {victims:?} with {staged} bytes staged on node{target}");
    for victim in victims {
        cluster.kill(victim);
    }
    cluster.start_missing();
}

/// The bytes the files under `dir` take on disk (0 once gone).
fn staged_bytes(dir: &std::path::Path) -> u64 {
    let entries = std::fs::read_dir(dir).into_iter().flatten().flatten();
    entries
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => staged_bytes(&e.path()),
            Ok(m) => std::os::unix::fs::MetadataExt::blocks(&m) * 512,
            Err(_) => 0,
        })
        .sum()
}

/// After a move to node `k`: the status is clean, the other node's copy and both staging
/// directories go.
fn only_copy_on(nodes: &TwoNodes, k: u8) {
    let path = "jsonpath={.status.reason}{.status.message}|{.status.lastMove.from} {.status.lastMove.to} {.status.lastMove.bytesSent}";
    let status = nodes.cluster.ok(&["get", "dataset", "blob", "-o", path]);
    let (why, last_move) = status.split_once('|').unwrap();
    assert_eq!(why, "", "a failure left in the status after the move to node{k}");
    assert!(last_move.starts_with(&format!("node{} node{k} ", 3 - k)), "{last_move}");
    eprintln!("moved: {last_move}");
    // The pull cut off by the crash resumed: what was staged before it was not sent again.
    let sent: u64 = last_move.split_whitespace().nth(2).unwrap().parse().unwrap();
    assert!(sent < 200 << 20, "the whole blob was sent again after the crash: {last_move}");
    let other = 3 - k;
    let deadline = Instant::now() + DEADLINE;
    while copy_dir(nodes, other).exists() || staging_dir(nodes, 1).exists() || staging_dir(nodes, 2).exists() {
        assert!(Instant::now() < deadline, "node{other}'s copy or a staging directory stays after the move to node{k}");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(copy_dir(nodes, k).join("blob").exists(), "node{k} holds no blob");
}

#[test]
fn killing_either_kubelet_or_the_controller_manager_mid_move_converges_with_the_data_intact() {
    let nodes = TwoNodes::up();
    let cluster = &nodes.cluster;
    nodes.create("dataset", DATASET);
    nodes.create("rc", RC);
    let first = pod_on(&nodes, "node1");
    dataset_state(&nodes, "node1 Ready");
    let before = common::eventually(cluster, &["exec", &first, "--", "cat", "/data/marker"], "the blob written", |t| {
        t.trim() == "marker"
    });
    assert_eq!(before.trim(), "marker");
    let before = contents(&nodes, &first);
    MADE.store(true, std::sync::atomic::Ordering::SeqCst);

    // To node2, its kubelet (the target) killed mid-move.
    move_with_a_crash(&nodes, &first, "spinning", "ssd", &["node2-rk-kubelet"]);
    let second = pod_on(&nodes, "node2");
    dataset_state(&nodes, "node2 Ready");
    assert_eq!(contents(&nodes, &second), before, "the data after the move to node2");
    only_copy_on(&nodes, 2);

    // Back to node1, node2's kubelet (now the source) and the controller-manager killed mid-move.
    move_with_a_crash(&nodes, &second, "ssd", "spinning", &["node2-rk-kubelet", "rk-controller-manager"]);
    let third = pod_on(&nodes, "node1");
    dataset_state(&nodes, "node1 Ready");
    assert_eq!(contents(&nodes, &third), before, "the data after the move back to node1");
    only_copy_on(&nodes, 1);

    // A second pod using the dataset on the same node waits while the first runs,
    // and starts once the first is gone.
    let second_user = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: reader\nspec:\n  terminationGracePeriodSeconds: 1\n  nodeSelector: {disktype: spinning}\n  volumes:\n  - name: data\n    dataset: {name: blob}\n  containers:\n  - name: reader\n    image: rk/busybox:1.35\n    command: [sh, -c, 'cat /data/marker; while true; do sleep 1 & wait; done']\n    volumeMounts:\n    - {name: data, mountPath: /data}\n";
    nodes.create("reader", second_user);
    let state = "jsonpath={.status.phase} {.status.containerStatuses[0].state.waiting.reason}: {.status.containerStatuses[0].state.waiting.message}";
    let waiting = until(&nodes, &["get", "pod", "reader", "-o", state], "reader waiting: DatasetInUse", |t| {
        t.contains("DatasetInUse")
    });
    assert!(waiting.starts_with("Pending") && waiting.contains(&format!("in use by pod {third}")), "{waiting}");
    cluster.ok(&["scale", "rc", "blobs", "--replicas=0"]);
    until(&nodes, &["get", "pod", "reader", "-o", "jsonpath={.status.phase}"], "reader Running", |t| t == "Running");
}
