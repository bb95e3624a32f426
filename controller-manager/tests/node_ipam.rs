//! Node IPAM on a real etcd and apiserver: every node gets its own block of
//! the cluster CIDR, a deleted node's block goes to a later node, and a
//! restarted controller never hands out a block that is in use.

mod common;

use common::{test_settings, wait_for_event, ControllerProcess};
use rk_client::Client;
use rk_controller_manager::{node_ipam, ControllerContext, Settings};
use rk_proto::v1::*;
use rk_proto::Resource;
use rk_test_api::TestApi;
use rk_testkit::eventually;
use std::collections::BTreeMap;
use std::time::Duration;

const PATIENCE: Duration = Duration::from_secs(15);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_node_gets_a_distinct_block_even_across_restarts() {
    let api = TestApi::start().await;
    let client = &api.client;
    let controllers = ControllerProcess::start(&api.address, test_settings(), start_ipam);
    for name in ["n1", "n2", "n3"] {
        client.create(node(name)).await.unwrap();
    }
    let cidrs = all_assigned(client, 3).await;
    for cidr in cidrs.values() {
        assert!(cidr.starts_with("10.244.") && cidr.ends_with(".0/24"), "{cidr} is not a /24 of 10.244.0.0/16");
    }

    client.delete::<Node>(DeleteRequest { name: "n2".into(), ..Default::default() }).await.unwrap();
    client.create(node("n4")).await.unwrap();
    let after_delete = all_assigned(client, 3).await;
    assert_eq!(
        (after_delete["n1"].as_str(), after_delete["n3"].as_str()),
        (cidrs["n1"].as_str(), cidrs["n3"].as_str())
    );

    // Nodes registered while the controller is down are queued together with
    // the old ones when it comes back; none may get a block already in use.
    controllers.kill();
    for name in ["n5", "n6", "n7", "n8"] {
        client.create(node(name)).await.unwrap();
    }
    let _controllers = ControllerProcess::start(&api.address, test_settings(), start_ipam);
    let after_restart = all_assigned(client, 7).await;
    for name in ["n1", "n3", "n4"] {
        assert_eq!(after_restart[name], after_delete[name], "a node keeps its block");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_waits_for_a_released_block_when_the_range_is_exhausted() {
    let api = TestApi::start().await;
    let client = &api.client;
    let settings = Settings { cluster_cidr: "10.0.0.0/23".into(), node_cidr_mask_size: 24, ..test_settings() };
    let _controllers = ControllerProcess::start(&api.address, settings, start_ipam);
    for name in ["n1", "n2"] {
        client.create(node(name)).await.unwrap();
    }
    let cidrs = all_assigned(client, 2).await;
    client.create(node("n3")).await.unwrap();
    let failed = wait_for_event(client, "n3", "CIDRAssignmentFailed").await;
    assert_eq!(failed.r#type, "Warning");
    assert_eq!(failed.message, "no pod CIDR left for node n3: all 2 /24 blocks of 10.0.0.0/23 are in use");
    assert_eq!(pod_cidrs(client).await.get("n3").map(String::as_str), Some(""));

    client.delete::<Node>(DeleteRequest { name: "n1".into(), ..Default::default() }).await.unwrap();
    let reassigned = all_assigned(client, 2).await;
    assert_eq!(reassigned["n3"], cidrs["n1"], "n3 gets the block n1 released");
}

#[tokio::test]
async fn bad_settings_are_refused_at_start() {
    let channel = tonic::transport::Endpoint::from_static("http://127.0.0.1:1").connect_lazy();
    let settings = Settings { cluster_cidr: "10.244.0.0/16".into(), node_cidr_mask_size: 12, ..Settings::default() };
    let error = node_ipam::start(&ControllerContext::new(Client::from_channel(channel), settings)).unwrap_err();
    assert_eq!(
        error.to_string(),
        "--node-cidr-mask-size 12 must be longer than the /16 of --cluster-cidr (at most 32), \
         so that the cluster CIDR splits into several node blocks"
    );
}

async fn start_ipam(ctx: ControllerContext) {
    node_ipam::start(&ctx).expect("valid settings");
}

fn node(name: &str) -> Node {
    Node { metadata: Some(ObjectMeta { name: name.into(), ..Default::default() }), ..Default::default() }
}

/// Every node's spec.podCIDR ("" when it has none), by node name.
async fn pod_cidrs(client: &Client) -> BTreeMap<String, String> {
    let nodes = client.list::<Node>(ListOptions::default()).await.unwrap().items;
    nodes.into_iter().map(|n| (n.metadata().name.clone(), n.spec.unwrap_or_default().pod_cidr)).collect()
}

/// Waits until all `count` nodes have a podCIDR, checking on every look that
/// no two nodes ever share one; returns them.
async fn all_assigned(client: &Client, count: usize) -> BTreeMap<String, String> {
    eventually(&format!("{count} nodes with a pod CIDR each"), PATIENCE, || async {
        let cidrs = pod_cidrs(client).await;
        let mut assigned: Vec<_> = cidrs.values().filter(|c| !c.is_empty()).collect();
        let total = assigned.len();
        assigned.sort();
        assigned.dedup();
        assert_eq!(assigned.len(), total, "two nodes share a pod CIDR: {cidrs:?}");
        (cidrs.len() == count && total == count).then_some(cidrs)
    })
    .await
}
