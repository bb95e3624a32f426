//! The control plane end to end through rkctl: `cluster up` starts the
//! scheduler and controller manager; nodes are registered as API objects
//! (no kubelet yet), and replication controllers place pods by nodeSelector.

mod common;

use common::Cluster;
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

/// Polls `rkctl` until `check` accepts its output.
fn eventually(cluster: &Cluster, args: &[&str], what: &str, check: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = cluster.rkctl(args);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() && check(&text) {
            return text;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}; last output:\n{text}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

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
