//! The control plane end to end through rkctl: `cluster up` starts the
//! scheduler and controller manager; nodes are registered as API objects
//! (no kubelet yet), and replication controllers place pods by nodeSelector.

mod common;

use common::{eventually, Cluster};
use rk_proto::v1::Node;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn node(name: &str, disktype: &str) -> String {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    format!(
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  labels: {{disktype: {disktype}}}\nstatus:\n  capacity: {{cpu: 4, memory: 8Gi, pods: 110}}\n  allocatable: {{cpu: 4, memory: 8Gi, pods: 110}}\n  conditions:\n  - {{type: Ready, status: 'True', lastHeartbeatTime: '{now}', lastTransitionTime: '{now}'}}\n"
    )
}

const RC: &str = "apiVersion: v1
kind: ReplicationController
metadata:
  name: web
spec:
  replicas: 1
  template:
    metadata:
      labels: {app: web}
    spec:
      nodeSelector: {disktype: spinning}
      containers:
      - {name: web, image: hello:1.0}
";

#[test]
fn a_template_switch_moves_the_replacement_pod_to_the_newly_selected_node() {
    let cluster = Cluster::up();
    cluster.ok(&["create", "-f", &cluster.write("n1.yaml", &node("node1", "spinning"))]);
    cluster.ok(&["create", "-f", &cluster.write("n2.yaml", &node("node2", "ssd"))]);
    cluster.ok(&["create", "-f", &cluster.write("rc.yaml", RC)]);
    let nodes = "jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName}{\"\\n\"}{end}";
    let placed = eventually(&cluster, &["get", "pods", "-o", nodes], "the pod on node1", |t| {
        t.lines().count() == 1 && t.trim_end().ends_with(" node1")
    });
    let first_pod = placed.split_whitespace().next().unwrap().to_string();
    assert!(first_pod.starts_with("web-"), "{placed}");

    // The controller writes the RC's status meanwhile, so an edit may meet a Conflict: edit again.
    let mut attempts = 0;
    loop {
        let yaml = cluster.ok(&["get", "rc", "web", "-o", "yaml"]);
        let out = cluster.rkctl_stdin(&["update", "-f", "-"], &yaml.replace("disktype: spinning", "disktype: ssd"));
        if out.status.success() {
            break;
        }
        let error = String::from_utf8_lossy(&out.stderr);
        assert!(error.contains("(Conflict)") && attempts < 10, "{error}");
        attempts += 1;
    }
    // The running pod stays where it is: a template change affects only new pods.
    assert!(cluster.ok(&["get", "pods", "-o", nodes]).contains(&format!("{first_pod} node1")));
    cluster.ok(&["delete", "pod", &first_pod, "--grace-period=0", "--force"]);
    let replaced = eventually(&cluster, &["get", "pods", "-o", nodes], "a replacement on node2", |t| {
        t.lines().count() == 1 && t.trim_end().ends_with(" node2")
    });
    assert!(!replaced.contains(&first_pod));
    let events = cluster.ok(&["get", "events"]);
    assert!(events.contains("SuccessfulCreate") && events.contains("Scheduled"), "{events}");
}

#[test]
fn scaling_and_cascading_deletion() {
    let cluster = Cluster::up();
    // No node matches, so the pods stay unbound and are deleted at once (no kubelet
    // exists to finish the graceful deletion of bound pods).
    let rc = RC.replace("disktype: spinning", "disktype: none");
    cluster.ok(&["create", "-f", &cluster.write("rc.yaml", &rc)]);
    let count = |n: usize| move |t: &str| t.lines().count() == n;
    let names = ["get", "pods", "-o", "name"];
    eventually(&cluster, &names, "1 pod", count(1));
    for replicas in ["3", "0", "2"] {
        cluster.ok(&["scale", "rc", "web", &format!("--replicas={replicas}")]);
        eventually(&cluster, &names, &format!("{replicas} pods"), count(replicas.parse().unwrap()));
    }
    eventually(&cluster, &["get", "rc", "web"], "status current", |t| t.contains("\nweb    2         2"));
    cluster.ok(&["delete", "rc", "web", "--cascade=orphan"]);
    eventually(&cluster, &["get", "rc", "-o", "name"], "the rc gone", |t| t.is_empty());
    assert_eq!(cluster.ok(&names).lines().count(), 2, "orphaned pods stay");
    // A new controller adopts the orphans; deleting it (background) takes them along.
    cluster.ok(&["create", "-f", &cluster.write("rc.yaml", &rc.replace("replicas: 1", "replicas: 2"))]);
    cluster.ok(&["delete", "rc", "web"]);
    eventually(&cluster, &names, "pods deleted with their controller", count(0));
}

/// Pods in the default namespace.
fn pod_count(cluster: &Cluster) -> usize {
    cluster.ok(&["get", "pods", "-o", "name"]).lines().count()
}

#[test]
fn a_controller_manager_killed_in_the_middle_of_a_scale_to_500_never_overshoots() {
    let cluster = Cluster::up();
    // No node matches: the pods stay unbound, so only the controller manager is exercised.
    let rc = RC.replace("disktype: spinning", "disktype: none").replace("replicas: 1", "replicas: 500");
    cluster.ok(&["create", "-f", &cluster.write("rc.yaml", &rc)]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while pod_count(&cluster) < 50 {
        assert!(Instant::now() < deadline, "the scale-up did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    cluster.kill("rk-controller-manager");
    let at_kill = pod_count(&cluster);
    assert!(at_kill < 500, "killed too late to test anything ({at_kill} pods)");
    // A new instance waits out the dead one's leader lease (15 s), then carries on.
    cluster.start_missing();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut stable = 0;
    while stable < 10 {
        let count = pod_count(&cluster);
        assert!(count <= 500, "{count} pods: more than the 500 asked for");
        stable = if count == 500 { stable + 1 } else { 0 };
        assert!(Instant::now() < deadline, "stuck at {count} pods");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Keeps a node's Ready condition fresh, as its kubelet would, until dropped.
struct Heartbeat(Arc<AtomicBool>);

impl Heartbeat {
    fn start(server: String, node: &'static str) -> Heartbeat {
        let running = Arc::new(AtomicBool::new(true));
        let flag = Arc::clone(&running);
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let client = rk_client::Client::connect(&server).await.unwrap();
                while flag.load(Ordering::Relaxed) {
                    if let Ok(mut n) = client.get::<Node>("", node).await {
                        let now = rk_proto::time::now();
                        for condition in &mut n.status.get_or_insert_with(Default::default).conditions {
                            condition.last_heartbeat_time.clone_from(&now);
                        }
                        let _ = client.update_status(n).await;
                    }
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
            });
        });
        Heartbeat(running)
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

#[test]
fn pods_of_a_node_that_stops_heartbeating_are_recreated_on_the_other_node() {
    let cluster = Cluster::up_with(&["--nodes=0", "--node-monitor-grace-period=2", "--pod-eviction-timeout=3"]);
    cluster.ok(&["create", "-f", &cluster.write("n1.yaml", &node("node1", "ssd"))]);
    let _alive = Heartbeat::start(cluster.server(), "node1");
    cluster.ok(&["create", "-f", &cluster.write("n2.yaml", &node("node2", "ssd"))]);
    let node2_heartbeat = Heartbeat::start(cluster.server(), "node2");
    let rc = RC.replace("disktype: spinning", "disktype: ssd").replace("replicas: 1", "replicas: 2");
    cluster.ok(&["create", "-f", &cluster.write("rc.yaml", &rc)]);
    let nodes = "jsonpath={range .items[*]}{.spec.nodeName}{\"\\n\"}{end}";
    // Spreading puts one replica on each node.
    eventually(&cluster, &["get", "pods", "-o", nodes], "a pod on each node", |t| {
        t.lines().filter(|l| *l == "node1").count() == 1 && t.lines().filter(|l| *l == "node2").count() == 1
    });
    drop(node2_heartbeat);
    eventually(&cluster, &["get", "nodes"], "node2 not ready", |t| {
        t.contains("node2   NotReady") || t.contains("node2   Unknown")
    });
    eventually(&cluster, &["get", "pods", "-o", nodes], "both replicas on node1", |t| {
        t.lines().count() == 2 && t.lines().all(|l| l == "node1")
    });
    let events = cluster.ok(&["get", "events", "-A"]);
    assert!(events.contains("NodeNotReady"), "{events}");
}
