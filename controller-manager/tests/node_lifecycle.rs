//! Node lifecycle on a real etcd and apiserver: a node that stops
//! heartbeating becomes Ready=Unknown, its pods are marked not ready, then it
//! loses them; a node that keeps
//! heartbeating keeps its pods; a node that comes back is reported ready.

mod common;

use common::{create_bound_pod, find_event, test_settings, wait_for_event, ControllerProcess};
use rk_client::Client;
use rk_controller_manager::{node_lifecycle, Settings};
use rk_proto::v1::*;
use rk_proto::Resource;
use rk_test_api::TestApi;
use rk_testkit::eventually;
use std::time::Duration;

const PATIENCE: Duration = Duration::from_secs(20);
const HEARTBEAT: Duration = Duration::from_millis(500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_node_becomes_unknown_and_its_pods_are_evicted() {
    let api = TestApi::start().await;
    let client = &api.client;
    for name in ["a", "b"] {
        client.create(node(name)).await.unwrap();
        post_ready(client, name).await;
    }
    for (pod, node) in [("a-1", "a"), ("a-2", "a"), ("b-1", "b"), ("b-2", "b")] {
        create_bound_pod(client, pod, node, Vec::new()).await;
        post_pod_ready(client, pod).await;
    }
    let heartbeats = tokio::spawn({
        let client = client.clone();
        async move {
            loop {
                tokio::time::sleep(HEARTBEAT).await;
                post_ready(&client, "a").await;
            }
        }
    });
    let settings = Settings {
        node_monitor_grace_period: Duration::from_secs(2),
        pod_eviction_timeout: Duration::from_secs(4),
        ..test_settings()
    };
    let _controllers =
        ControllerProcess::start(&api.address, settings, |ctx| async move { node_lifecycle::start(&ctx) });

    let ready = eventually("node b Ready=Unknown", PATIENCE, || async {
        let node: Node = client.get("", "b").await.ok()?;
        ready_condition(&node).filter(|c| c.status == "Unknown")
    })
    .await;
    assert_eq!(ready.reason, "NodeStatusUnknown");
    assert_eq!(ready.message, "Kubelet stopped posting node status.");
    let silence = seconds_between(&ready.last_heartbeat_time, &ready.last_transition_time);
    assert!(silence >= 2, "marked Unknown after {silence} s of silence, before the 2 s grace period");
    assert_eq!(pods_on(client, "b").await, ["b-1", "b-2"], "eviction waits for the eviction timeout");
    // Until then its pods are not ready, so Services stop sending them traffic.
    for pod in ["b-1", "b-2"] {
        eventually("node b's pods not ready", PATIENCE, || async {
            let pod: Pod = client.get("default", pod).await.ok()?;
            (pod_ready(&pod) == "False").then_some(())
        })
        .await;
        let event = wait_for_event(client, pod, "NodeNotReady").await;
        assert_eq!((event.r#type.as_str(), event.message.as_str()), ("Warning", "Node is not ready"));
    }
    wait_for_event(client, "b", "NodeNotReady").await;

    eventually("node b's pods deleted", PATIENCE, || async { pods_on(client, "b").await.is_empty().then_some(()) })
        .await;
    let evicted = wait_for_event(client, "b-1", "NodeControllerEviction").await;
    assert_eq!(evicted.message, "Marking for deletion Pod default/b-1 from Node b");
    wait_for_event(client, "b", "DeletingAllPods").await;
    assert_eq!(pods_on(client, "a").await, ["a-1", "a-2"], "the heartbeating node keeps its pods");
    for pod in ["a-1", "a-2"] {
        assert_eq!(pod_ready(&client.get::<Pod>("default", pod).await.unwrap()), "True", "{pod} stays ready");
    }
    let a: Node = client.get("", "a").await.unwrap();
    assert_eq!(ready_condition(&a).unwrap().status, "True");
    assert!(find_event(client, "a", "NodeNotReady").await.is_none());

    post_ready(client, "b").await;
    wait_for_event(client, "b", "NodeReady").await;
    heartbeats.abort();
}

fn node(name: &str) -> Node {
    Node { metadata: Some(ObjectMeta { name: name.into(), ..Default::default() }), ..Default::default() }
}

fn ready_condition(node: &Node) -> Option<NodeCondition> {
    node.status.as_ref()?.conditions.iter().find(|c| c.r#type == "Ready").cloned()
}

/// What a kubelet does: Ready=True with a fresh heartbeat. Conflicts with the
/// controller's own writes are left to the next heartbeat.
async fn post_ready(client: &Client, name: &str) {
    let Ok(mut node) = client.get::<Node>("", name).await else { return };
    let now = rk_proto::time::now();
    let conditions = &mut node.status.get_or_insert_with(Default::default).conditions;
    let previous = conditions.iter().position(|c| c.r#type == "Ready").map(|i| conditions.remove(i));
    let transition = previous.filter(|c| c.status == "True").map_or_else(|| now.clone(), |c| c.last_transition_time);
    conditions.push(NodeCondition {
        r#type: "Ready".into(),
        status: "True".into(),
        last_heartbeat_time: now,
        last_transition_time: transition,
        reason: "KubeletReady".into(),
        message: "kubelet is posting ready status".into(),
    });
    let _ = client.update_status(node).await;
}

/// What a kubelet reports for a pod whose containers are ready.
async fn post_pod_ready(client: &Client, name: &str) {
    let mut pod: Pod = client.get("default", name).await.unwrap();
    let ready = PodCondition {
        r#type: "Ready".into(),
        status: "True".into(),
        last_transition_time: rk_proto::time::now(),
        ..Default::default()
    };
    pod.status = Some(PodStatus { phase: "Running".into(), conditions: vec![ready], ..Default::default() });
    client.update_status(pod).await.unwrap();
}

fn pod_ready(pod: &Pod) -> String {
    let conditions = pod.status.as_ref().map(|s| s.conditions.as_slice()).unwrap_or_default();
    conditions.iter().find(|c| c.r#type == "Ready").map(|c| c.status.clone()).unwrap_or_default()
}

/// Names of the pods bound to `node`, sorted.
async fn pods_on(client: &Client, node: &str) -> Vec<String> {
    let options = ListOptions { field_selector: format!("spec.nodeName={node}"), ..Default::default() };
    let mut names: Vec<_> =
        client.list::<Pod>(options).await.unwrap().items.iter().map(|p| p.metadata().name.clone()).collect();
    names.sort();
    names
}

fn seconds_between(from: &str, to: &str) -> i64 {
    let parse = |t: &str| rk_proto::time::parse(t).unwrap_or_else(|| panic!("{t:?} is not a time"));
    (parse(to) - parse(from)).num_seconds()
}
