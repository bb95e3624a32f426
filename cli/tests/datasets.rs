//! rkctl with Datasets on a control-plane-only cluster: create, get (table,
//! wide, short names), describe with the last move and the pods using it,
//! api-resources, and delete. The cluster's dataset controller places the
//! datasets; the status a move by kubelets would leave is written here
//! through the API, on a Node made Ready (and unschedulable) by hand.

mod common;

use common::{eventually, Cluster};
use rk_proto::v1::{Dataset, DatasetMove, DatasetStatus, Node, NodeCondition, NodeSpec, NodeStatus, ObjectMeta};

const DATASETS: &str = "apiVersion: v1
kind: Dataset
metadata:
  name: redis-data
spec:
  primary: node2
  sizeLimit: 10Gi
---
apiVersion: v1
kind: Dataset
metadata:
  name: scratch
";

const POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: redis
spec:
  volumes:
  - name: data
    dataset: {name: redis-data}
  containers:
  - name: redis
    image: rk/redis:7
    volumeMounts: [{name: data, mountPath: /data}]
";

/// Writes the status of `redis-data` as if it had moved from node1 to node2.
fn write_moved_status(server: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let client = rk_client::Client::connect(server).await.unwrap();
        // The controller keeps a dataset on a Ready node as it is; nothing schedules there.
        let now = rk_proto::time::now();
        let ready = NodeCondition {
            r#type: "Ready".into(),
            status: "True".into(),
            last_heartbeat_time: now.clone(),
            last_transition_time: now,
            ..Default::default()
        };
        let node2 = Node {
            metadata: Some(ObjectMeta { name: "node2".into(), ..Default::default() }),
            spec: Some(NodeSpec { unschedulable: true, ..Default::default() }),
            status: Some(NodeStatus { conditions: vec![ready], ..Default::default() }),
            ..Default::default()
        };
        client.create(node2).await.unwrap();
        // The controller may write in between: a conflict is tried again on the fresh object.
        loop {
            let mut dataset: Dataset = client.get("default", "redis-data").await.unwrap();
            dataset.status = Some(DatasetStatus {
                node: "node2".into(),
                phase: "Ready".into(),
                bytes_used: 3 << 29,
                last_move: Some(DatasetMove {
                    from: "node1".into(),
                    to: "node2".into(),
                    started: "2024-05-01T12:00:00Z".into(),
                    finished: "2024-05-01T12:00:09Z".into(),
                    duration_ms: 9000,
                    downtime_ms: 1200,
                    bytes_sent: 3 << 29,
                }),
                ..Default::default()
            });
            match client.update_status(dataset).await {
                Err(status) if status.code() == tonic::Code::Aborted => continue,
                result => break result.map(drop).unwrap(),
            }
        }
    });
}

fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

#[test]
fn datasets_are_created_listed_described_and_deleted() {
    let cluster = Cluster::up();
    let file = cluster.write("datasets.yaml", DATASETS);
    assert_eq!(cluster.ok(&["create", "-f", &file]), "dataset/redis-data created\ndataset/scratch created\n");
    cluster.ok(&["create", "-f", &cluster.write("pod.yaml", POD)]);

    // The controller places a dataset with a primary there at once; one without waits for its first pod.
    let table = eventually(&cluster, &["get", "datasets"], "redis-data placed on node2", |t| {
        t.lines().any(|l| words(l)[..4] == ["redis-data", "node2", "node2", "Pending"])
    });
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("NAME         PRIMARY   NODE     PHASE     USED   AGE"), "{table}");
    assert_eq!(words(lines[1])[..5], ["redis-data", "node2", "node2", "Pending", "0B"], "{table}");
    assert_eq!(words(lines[2])[..5], ["scratch", "<none>", "<none>", "<none>", "0B"], "{table}");

    write_moved_status(&cluster.server());
    let wide = cluster.ok(&["get", "dset", "redis-data", "-o", "wide"]);
    let lines: Vec<&str> = wide.lines().collect();
    assert_eq!(words(lines[0]), ["NAME", "PRIMARY", "NODE", "PHASE", "USED", "AGE", "TARGET", "LAST", "MOVE"]);
    let row = words(lines[1]);
    assert_eq!(row[..5], ["redis-data", "node2", "node2", "Ready", "1.5Gi"], "{wide}");
    assert_eq!(row[6..], ["<none>", "node1->node2", "9.0s", "(down", "1.2s)"], "{wide}");
    assert_eq!(cluster.ok(&["get", "dataset", "-o", "name"]), "dataset/redis-data\ndataset/scratch\n");
    assert_eq!(cluster.ok(&["get", "datasets/redis-data", "-o", "jsonpath={.status.lastMove.downtimeMs}"]), "1200");

    let describe = cluster.ok(&["describe", "dataset", "redis-data"]);
    for expected in [
        "Primary:            node2",
        "Size Limit:         10Gi",
        "Phase:              Ready",
        "Used:               1.5Gi (1610612736 bytes)",
        "Used By:            redis (not scheduled, Pending)",
        "  From:        node1",
        "  Duration:    9.0s",
        "  Downtime:    1.2s",
        "Normal  DatasetPlaced",
    ] {
        assert!(describe.contains(expected), "{expected:?} missing from:\n{describe}");
    }

    let resources = cluster.ok(&["api-resources"]);
    assert!(resources.lines().any(|l| words(l) == ["datasets", "dset", "v1", "true", "Dataset"]), "{resources}");
    let bad =
        cluster.write("bad.yaml", "apiVersion: v1\nkind: Dataset\nmetadata: {name: bad}\nspec: {primary: Node_1}\n");
    let refused = cluster.fails(&["create", "-f", &bad]);
    assert!(refused.contains("spec.primary: Invalid value: \"Node_1\""), "{refused}");

    assert_eq!(cluster.ok(&["delete", "-f", &file]), "dataset \"redis-data\" deleted\ndataset \"scratch\" deleted\n");
    assert!(cluster.fails(&["get", "dataset", "scratch"]).contains("datasets \"scratch\" not found"));
}
