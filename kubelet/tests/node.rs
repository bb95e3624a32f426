//! The kubelet's Node on a real etcd and apiserver: registration (new, and
//! over a Node that exists), the pod CIDR wait, and the heartbeat (fresh
//! times, a runtime that goes down and comes back, conflicting writers, a
//! deleted Node). The container runtime is the fake one: only the Node is
//! under test here.

use rk_client::Client;
use rk_kubelet::config::KubeletConfig;
use rk_kubelet::node::{register_node, start_heartbeat, wait_for_pod_cidr};
use rk_kubelet::runtime::fake::FakeRuntime;
use rk_kubelet::runtime::ContainerRuntime;
use rk_proto::v1::{DeleteRequest, Node, NodeCondition, NodeSpec, ObjectMeta};
use rk_proto::Resource;
use rk_test_api::TestApi;
use rk_testkit::eventually;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// How long a test waits for something that should happen (a deadline, not a sleep).
const PATIENCE: Duration = Duration::from_secs(30);

fn config(name: &str) -> KubeletConfig {
    let mut config = KubeletConfig::new(name);
    config.node_ip = "10.99.0.7".into();
    config.max_pods = 42;
    config.streaming_port = 10311;
    config.node_labels = BTreeMap::from([("disktype".to_string(), "ssd".to_string())]);
    config.heartbeat_period = Duration::from_millis(200);
    config
}

fn ready(node: &Node) -> NodeCondition {
    let conditions = &node.status.as_ref().expect("a status").conditions;
    conditions.iter().find(|c| c.r#type == "Ready").expect("a Ready condition").clone()
}

async fn get(client: &Client, name: &str) -> Node {
    client.get::<Node>("", name).await.expect("the node exists")
}

fn label<'a>(node: &'a Node, key: &str) -> Option<&'a str> {
    node.metadata().labels.get(key).map(String::as_str)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_node_is_registered_with_the_hosts_facts_and_ready() {
    let api = TestApi::start().await;
    let runtime = FakeRuntime::new();
    let returned = register_node(&api.client, &config("worker-1"), &runtime).await.unwrap();
    let node = get(&api.client, "worker-1").await;
    assert_eq!(returned, node);

    assert_eq!(label(&node, "disktype"), Some("ssd"));
    assert_eq!(label(&node, "kubernetes.io/hostname"), Some("worker-1"));
    assert_eq!(label(&node, "kubernetes.io/os"), Some("linux"));
    let arch = label(&node, "kubernetes.io/arch").unwrap();
    assert!(arch == "amd64" || arch == "arm64", "{arch}");

    let status = node.status.as_ref().unwrap();
    let cpus = std::thread::available_parallelism().unwrap().get();
    assert_eq!(status.capacity["cpu"], cpus.to_string());
    assert_eq!(status.capacity["pods"], "42");
    let memory = rk_proto::quantity::parse(&status.capacity["memory"]).unwrap().value();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    assert!(meminfo.contains(&format!(" {} kB", memory / 1024)), "{memory} bytes is not MemTotal");
    assert_eq!(status.allocatable, status.capacity);

    let addresses: Vec<_> = status.addresses.iter().map(|a| (a.r#type.as_str(), a.address.as_str())).collect();
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(addresses, [("InternalIP", "10.99.0.7"), ("Hostname", hostname.trim())]);

    let info = status.node_info.as_ref().unwrap();
    assert_eq!(info.container_runtime_version, "fake://1.0.0");
    assert_eq!(info.kubelet_version, concat!("rk-v", env!("CARGO_PKG_VERSION")));
    assert_eq!((info.operating_system.as_str(), info.architecture.as_str()), ("linux", arch));
    assert_eq!(info.kernel_version, std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap().trim());
    assert!(!info.os_image.is_empty() && !info.boot_id.is_empty());
    let endpoints = status.daemon_endpoints.as_ref().unwrap();
    assert_eq!(endpoints.kubelet_endpoint.as_ref().unwrap().port, 10311);

    let condition = ready(&node);
    assert_eq!((condition.status.as_str(), condition.reason.as_str()), ("True", "KubeletReady"));
    assert_eq!(condition.message, "kubelet is posting ready status");
    assert!(rk_proto::time::parse(&condition.last_heartbeat_time).is_some());
    assert_eq!(condition.last_transition_time, condition.last_heartbeat_time);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registering_over_an_existing_node_merges_labels_and_keeps_its_spec() {
    let api = TestApi::start().await;
    let admin_made = Node {
        metadata: Some(ObjectMeta {
            name: "worker-2".into(),
            labels: BTreeMap::from([
                ("disktype".to_string(), "spinning".to_string()),
                ("team".to_string(), "blue".to_string()),
            ]),
            ..Default::default()
        }),
        spec: Some(NodeSpec { pod_cidr: "10.244.7.0/24".into(), unschedulable: true, ..Default::default() }),
        ..Default::default()
    };
    api.client.create(admin_made).await.unwrap();

    let runtime = FakeRuntime::new();
    register_node(&api.client, &config("worker-2"), &runtime).await.unwrap();
    let node = get(&api.client, "worker-2").await;
    assert_eq!(label(&node, "disktype"), Some("ssd"), "the kubelet's labels win");
    assert_eq!(label(&node, "team"), Some("blue"), "other labels are kept");
    assert_eq!(label(&node, "kubernetes.io/hostname"), Some("worker-2"));
    let spec = node.spec.as_ref().unwrap();
    assert_eq!((spec.pod_cidr.as_str(), spec.unschedulable), ("10.244.7.0/24", true));
    assert_eq!(ready(&node).status, "True");
    assert_eq!(node.status.as_ref().unwrap().capacity["pods"], "42");

    // A restarted kubelet registers again: same Node, nothing lost.
    register_node(&api.client, &config("worker-2"), &runtime).await.unwrap();
    let again = get(&api.client, "worker-2").await;
    assert_eq!(again.metadata().uid, node.metadata().uid);
    assert_eq!(again.metadata().labels, node.metadata().labels);
    assert_eq!(again.spec, node.spec);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pod_cidr_wait_ends_when_the_cidr_is_assigned() {
    let api = TestApi::start().await;
    // Waiting starts before the Node even exists.
    let waiting = tokio::spawn({
        let client = api.client.clone();
        async move { wait_for_pod_cidr(&client, "worker-3").await }
    });
    register_node(&api.client, &config("worker-3"), &FakeRuntime::new()).await.unwrap();
    let mut node = get(&api.client, "worker-3").await;
    assert!(!waiting.is_finished(), "no CIDR yet");
    // As the node IPAM controller does.
    node.spec.get_or_insert_with(Default::default).pod_cidr = "10.244.3.0/24".into();
    api.client.update(node).await.unwrap();
    let cidr = tokio::time::timeout(PATIENCE, waiting).await.expect("the wait ends").unwrap();
    assert_eq!(cidr, "10.244.3.0/24");
    // Once assigned, it is returned at once.
    assert_eq!(wait_for_pod_cidr(&api.client, "worker-3").await, "10.244.3.0/24");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_refresh_ready_and_report_a_runtime_that_is_down() {
    let api = TestApi::start().await;
    let runtime = Arc::new(FakeRuntime::new());
    let config = config("worker-4");
    let registered = ready(&register_node(&api.client, &config, runtime.as_ref()).await.unwrap());
    let heartbeat = start_heartbeat(api.client.clone(), config, runtime.clone() as Arc<dyn ContainerRuntime>);

    // Times have a resolution of one second.
    let fresh = eventually("a later heartbeat", PATIENCE, || async {
        let condition = ready(&get(&api.client, "worker-4").await);
        (condition.last_heartbeat_time > registered.last_heartbeat_time).then_some(condition)
    })
    .await;
    assert_eq!(
        (fresh.status.as_str(), fresh.last_transition_time.as_str()),
        ("True", &*registered.last_transition_time)
    );

    runtime.set_down(Some("Cannot connect to the Docker daemon"));
    let down = eventually("Ready=False", PATIENCE, || async {
        Some(ready(&get(&api.client, "worker-4").await)).filter(|c| c.status == "False")
    })
    .await;
    assert_eq!(down.reason, "ContainerRuntimeDown");
    assert_eq!(down.message, "container runtime is down: Cannot connect to the Docker daemon");
    assert_eq!(down.last_transition_time, down.last_heartbeat_time);

    runtime.set_down(None);
    let back = eventually("Ready=True again", PATIENCE, || async {
        Some(ready(&get(&api.client, "worker-4").await)).filter(|c| c.status == "True")
    })
    .await;
    assert_eq!(back.reason, "KubeletReady");
    assert!(back.last_transition_time >= down.last_transition_time);
    heartbeat.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_overrule_the_controllers_unknown_and_bring_back_a_deleted_node() {
    let api = TestApi::start().await;
    let runtime: Arc<dyn ContainerRuntime> = Arc::new(FakeRuntime::new());
    let config = config("worker-5");
    register_node(&api.client, &config, runtime.as_ref()).await.unwrap();
    let heartbeat = start_heartbeat(api.client.clone(), config, runtime);

    // The node lifecycle controller writes in between: the heartbeat's next
    // write conflicts and must be made on the Node as it is now.
    eventually("the controller's write to go in between heartbeats", PATIENCE, || async {
        let mut node = get(&api.client, "worker-5").await;
        let status = node.status.as_mut().unwrap();
        let condition = status.conditions.iter_mut().find(|c| c.r#type == "Ready").unwrap();
        condition.status = "Unknown".into();
        condition.reason = "NodeStatusUnknown".into();
        api.client.update_status(node).await.ok()
    })
    .await;
    eventually("Ready=True after Unknown", PATIENCE, || async {
        let condition = ready(&get(&api.client, "worker-5").await);
        (condition.status == "True").then_some(())
    })
    .await;

    let uid = get(&api.client, "worker-5").await.metadata().uid.clone();
    api.client.delete::<Node>(DeleteRequest { name: "worker-5".into(), ..Default::default() }).await.unwrap();
    let back = eventually("the node registered again", PATIENCE, || async {
        api.client.get::<Node>("", "worker-5").await.ok().filter(|n| n.metadata().uid != uid)
    })
    .await;
    assert_eq!(label(&back, "disktype"), Some("ssd"));
    assert_eq!(ready(&back).status, "True");
    heartbeat.abort();
}
