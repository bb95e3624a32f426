//! The dataset controller on a real etcd and apiserver, with the kubelets'
//! part played by the test: a new dataset is placed on its primary or on its
//! first pod's node (Pending), a Ready one moves where its pod went (Moving,
//! lastMove started), a changed primary deletes the pod away from it once the
//! target holds a first copy, and a
//! dataset whose node stops being Ready is Unavailable until it returns.

mod common;

use common::{create_bound_pod, test_settings, wait_for_event, ControllerProcess};
use rk_client::Client;
use rk_controller_manager::datasets;
use rk_proto::v1::*;
use rk_proto::Resource;
use rk_test_api::TestApi;
use rk_testkit::eventually;
use std::time::Duration;

const PATIENCE: Duration = Duration::from_secs(15);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datasets_are_placed_moved_and_unavailable_with_their_node() {
    let api = TestApi::start().await;
    let client = &api.client;
    for name in ["n1", "n2"] {
        client.create(node(name)).await.unwrap();
        set_ready(client, name, "True").await;
    }
    let _controllers =
        ControllerProcess::start(&api.address, test_settings(), |ctx| async move { datasets::start(&ctx) });

    // Placed on its primary; the kubelet there makes it Ready.
    client.create(dataset("pinned", "n1")).await.unwrap();
    wait_status(client, "pinned", |s| s.node == "n1" && s.phase == "Pending").await;
    kubelet_sets_ready(client, "pinned").await;

    // Without a primary, on the node of its first pod.
    client.create(dataset("follows", "")).await.unwrap();
    create_pod_using(client, "user-1", "follows", "n2").await;
    wait_status(client, "follows", |s| s.node == "n2" && s.phase == "Pending").await;
    kubelet_sets_ready(client, "follows").await;
    assert!(wait_for_event(client, "follows", "DatasetPlaced").await.message.contains("n2"));

    // Its pod replaced by one on n1: the data follows.
    delete_pod(client, "user-1").await;
    create_pod_using(client, "user-2", "follows", "n1").await;
    let status = wait_status(client, "follows", |s| s.phase == "Moving").await;
    assert_eq!((status.node.as_str(), status.target_node.as_str()), ("n2", "n1"));
    let last_move = status.last_move.unwrap();
    assert_eq!((last_move.from.as_str(), last_move.to.as_str()), ("n2", "n1"));
    assert!(rk_proto::time::parse(&last_move.started).is_some());
    assert_eq!(wait_for_event(client, "follows", "DatasetMoving").await.message, "Moving from node n2 to node n1");

    // A changed primary moves the data; the pod on the old node runs on until the target holds
    // a first copy (the controller would have deleted it before writing Moving), then stops.
    create_pod_using(client, "pinned-user", "pinned", "n1").await;
    let mut pinned: Dataset = client.get("default", "pinned").await.unwrap();
    pinned.spec.as_mut().unwrap().primary = "n2".into();
    client.update(pinned).await.unwrap();
    let status = wait_status(client, "pinned", |s| s.phase == "Moving").await;
    assert_eq!(status.target_node, "n2");
    let pod: Pod = client.get("default", "pinned-user").await.unwrap();
    assert!(pod.metadata().deletion_timestamp.is_empty(), "deleted before the first pass");
    let mut first_copy_on_n2: Dataset = client.get("default", "pinned").await.unwrap();
    first_copy_on_n2.status.as_mut().unwrap().reason = "FirstPassDone".into();
    client.update_status(first_copy_on_n2).await.unwrap();
    eventually("the pod on n1 deleted", PATIENCE, || async {
        let pod: Pod = client.get("default", "pinned-user").await.ok()?;
        (!pod.metadata().deletion_timestamp.is_empty()).then_some(())
    })
    .await;
    assert!(wait_for_event(client, "pinned", "DeletingPod").await.message.contains("spec.primary is node n2"));

    // Its pod gone before the move finished: the move is called off. Then the holder goes down:
    // Unavailable with the reason, back once it returns.
    delete_pod(client, "user-2").await;
    let status = wait_status(client, "follows", |s| s.phase == "Ready").await;
    assert_eq!((status.node.as_str(), status.target_node.as_str()), ("n2", ""));
    set_ready(client, "n2", "Unknown").await;
    let status = wait_status(client, "follows", |s| s.phase == "Unavailable").await;
    assert_eq!((status.reason.as_str(), status.message.as_str()), ("NodeNotReady", "node n2 is not ready"));
    assert_eq!(wait_for_event(client, "follows", "DatasetUnavailable").await.r#type, "Warning");
    set_ready(client, "n2", "True").await;
    let status = wait_status(client, "follows", |s| s.phase == "Ready").await;
    assert_eq!((status.node.as_str(), status.reason.as_str()), ("n2", ""));
}

fn node(name: &str) -> Node {
    Node { metadata: Some(ObjectMeta { name: name.into(), ..Default::default() }), ..Default::default() }
}

fn dataset(name: &str, primary: &str) -> Dataset {
    Dataset {
        metadata: Some(ObjectMeta { name: name.into(), namespace: "default".into(), ..Default::default() }),
        spec: Some(DatasetSpec { primary: primary.into(), ..Default::default() }),
        ..Default::default()
    }
}

async fn set_ready(client: &Client, name: &str, status: &str) {
    let mut node: Node = client.get("", name).await.unwrap();
    let condition = NodeCondition {
        r#type: "Ready".into(),
        status: status.into(),
        last_heartbeat_time: rk_proto::time::now(),
        last_transition_time: rk_proto::time::now(),
        ..Default::default()
    };
    node.status.get_or_insert_with(Default::default).conditions = vec![condition];
    client.update_status(node).await.unwrap();
}

/// What the kubelet of a Pending dataset's node does once its directory exists.
async fn kubelet_sets_ready(client: &Client, name: &str) {
    let mut dataset: Dataset = client.get("default", name).await.unwrap();
    dataset.status.as_mut().unwrap().phase = "Ready".into();
    client.update_status(dataset).await.unwrap();
}

async fn wait_status(client: &Client, name: &str, done: impl Fn(&DatasetStatus) -> bool) -> DatasetStatus {
    eventually(&format!("dataset {name}'s status"), PATIENCE, || async {
        let dataset: Dataset = client.get("default", name).await.ok()?;
        dataset.status.filter(|s| done(s))
    })
    .await
}

/// A pod bound to `node` that uses dataset `dataset`.
async fn create_pod_using(client: &Client, name: &str, dataset: &str, node: &str) {
    let volume = Volume {
        name: "data".into(),
        dataset: Some(DatasetVolumeSource { name: dataset.into() }),
        ..Default::default()
    };
    create_bound_pod(client, name, node, vec![volume]).await;
}

/// Deletes a bound pod at once, as its kubelet would finish the deletion.
async fn delete_pod(client: &Client, name: &str) {
    let request = DeleteRequest {
        namespace: "default".into(),
        name: name.into(),
        grace_period_seconds: Some(0),
        ..Default::default()
    };
    client.delete::<Pod>(request).await.unwrap();
}
