//! Hollow nodes on a real etcd, apiserver and node IPAM controller: every
//! hollow kubelet registers its own Node, gets a pod CIDR and runs the pods
//! bound to it (Running at once, with an address of its CIDR), and all stop
//! on shutdown.

use rk_client::Client;
use rk_controller_manager::{node_ipam, ControllerContext, Settings};
use rk_kubelet::config::KubeletConfig;
use rk_kubelet::hollow::run_hollow_nodes;
use rk_proto::v1::{Container, ListOptions, Node, ObjectMeta, Pod, PodSpec};
use rk_proto::Resource;
use rk_test_api::TestApi;
use rk_testkit::eventually;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::Duration;
use tokio::sync::oneshot;

/// How long a test waits for something that should happen (a deadline, not a sleep).
const PATIENCE: Duration = Duration::from_secs(30);

const NODES: usize = 20;

/// Every Ready node's pod CIDR, by name.
async fn ready_nodes(client: &Client) -> BTreeMap<String, String> {
    let nodes = client.list::<Node>(ListOptions::default()).await.unwrap().items;
    let ready = |node: &Node| {
        let conditions = node.status.as_ref().map(|s| s.conditions.as_slice()).unwrap_or_default();
        conditions.iter().any(|c| c.r#type == "Ready" && c.status == "True")
    };
    let cidr = |node: &Node| node.spec.as_ref().map(|s| s.pod_cidr.clone()).filter(|c| !c.is_empty());
    nodes.iter().filter(|n| ready(n)).filter_map(|n| Some((n.metadata().name.clone(), cidr(n)?))).collect()
}

fn pod_on(name: &str, node: &str) -> Pod {
    Pod {
        metadata: Some(ObjectMeta { name: name.into(), namespace: "default".into(), ..Default::default() }),
        spec: Some(PodSpec {
            node_name: node.into(),
            containers: vec![Container { name: "web".into(), image: "rk/hello".into(), ..Default::default() }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn in_cidr(ip: &str, cidr: &str) -> bool {
    let (network, bits) = cidr.split_once('/').unwrap();
    let mask = u32::MAX << (32 - bits.parse::<u32>().unwrap());
    let (ip, network): (Ipv4Addr, Ipv4Addr) = (ip.parse().unwrap(), network.parse().unwrap());
    u32::from(ip) & mask == u32::from(network)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hollow_nodes_register_and_run_their_pods() {
    let api = TestApi::start().await;
    node_ipam::start(&ControllerContext::new(api.client.clone(), Settings::default())).expect("valid IPAM settings");
    let mut base = KubeletConfig::new("hollow");
    base.node_ip = "10.99.0.1".into();
    base.heartbeat_period = Duration::from_secs(1);
    let (stop, stopped) = oneshot::channel::<()>();
    let hollow = tokio::spawn(run_hollow_nodes(NODES, base, api.client.clone(), async {
        let _ = stopped.await;
    }));

    let nodes = eventually("every hollow node Ready with a pod CIDR", PATIENCE, || async {
        Some(ready_nodes(&api.client).await).filter(|nodes| nodes.len() == NODES)
    })
    .await;
    assert!((0..NODES).all(|i| nodes.contains_key(&format!("hollow-{i}"))), "{nodes:?}");

    for (pod, node) in [("a", "hollow-7"), ("b", "hollow-12")] {
        api.client.create(pod_on(pod, node)).await.unwrap();
    }
    for (pod, node) in [("a", "hollow-7"), ("b", "hollow-12")] {
        let running = eventually(&format!("pod {pod} Running"), PATIENCE, || async {
            let pod = api.client.get::<Pod>("default", pod).await.ok()?;
            pod.status.filter(|s| s.phase == "Running")
        })
        .await;
        assert!(in_cidr(&running.pod_ip, &nodes[node]), "{} is not in {node}'s {}", running.pod_ip, nodes[node]);
        assert_eq!(running.host_ip, "10.99.0.1");
    }

    stop.send(()).unwrap();
    let stopped = tokio::time::timeout(PATIENCE, hollow).await.expect("the hollow nodes stop");
    stopped.unwrap().expect("no hollow node failed");
}
