//! rkctl end to end: `cluster up` on free ports, then the commands a
//! Kubernetes user types, checked by their output.

mod common;

use common::{text, Cluster};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

const POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: web
    image: hello:1.0
    ports: [{containerPort: 8080}]
";

const RC: &str = "apiVersion: v1
kind: ReplicationController
metadata:
  name: frontend
spec:
  replicas: 2
  template:
    metadata:
      labels: {app: frontend}
    spec:
      containers:
      - {name: web, image: hello}
";

#[test]
fn cluster_up_status_and_down() {
    let cluster = Cluster::up();
    let status = cluster.ok(&["cluster", "status"]);
    assert!(status.starts_with("COMPONENT"), "{status}");
    for component in ["etcd", "rk-apiserver", "rk-scheduler", "rk-controller-manager"] {
        let line = status.lines().find(|l| l.starts_with(component)).unwrap_or_else(|| panic!("{status}"));
        assert!(line.contains("Running") && line.ends_with("ok"), "{line}");
    }
    assert!(cluster.ok(&["get", "namespaces"]).contains("default"));
    let down = cluster.ok(&["cluster", "down"]);
    for component in ["rk-controller-manager", "rk-scheduler", "rk-apiserver", "etcd"] {
        assert!(down.contains(&format!("stopped {component}")), "{down}");
    }
    let after = cluster.fails(&["cluster", "status"]);
    assert!(after.contains("not fully up"), "{after}");
    assert!(cluster.fails(&["get", "pods"]).contains("cannot connect"));
}

#[test]
fn create_get_describe_and_delete_a_pod() {
    let cluster = Cluster::up();
    let file = cluster.write("pod.yaml", POD);
    assert_eq!(cluster.ok(&["create", "-f", &file]), "pod/web created\n");
    let table = cluster.ok(&["get", "pods"]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("NAME   READY   STATUS    RESTARTS   AGE"), "{table}");
    assert!(lines[1].starts_with("web    0/1     Pending   0          "), "{table}");
    let wide = cluster.ok(&["get", "po", "-o", "wide"]);
    let header: Vec<&str> = wide.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED", "NODE", "READINESS", "GATES"]
    );
    assert!(cluster.ok(&["get", "pods", "--show-labels"]).contains("app=web"));
    assert_eq!(cluster.ok(&["get", "pod", "web", "-o", "name"]), "pod/web\n");
    assert_eq!(cluster.ok(&["get", "pods/web", "-o", "jsonpath={.spec.containers[0].image}"]), "hello:1.0");
    let yaml = cluster.ok(&["get", "pod", "web", "-o", "yaml"]);
    assert!(
        yaml.contains("kind: Pod") && yaml.contains("restartPolicy: Always") && yaml.contains("resourceVersion:"),
        "{yaml}"
    );
    let json = cluster.ok(&["get", "pods", "-o", "json"]);
    let list: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"][0]["metadata"]["name"], "web");
    let describe = cluster.ok(&["describe", "pod", "web"]);
    assert!(describe.contains("Name:") && describe.contains("web") && describe.contains("hello:1.0"), "{describe}");

    assert_eq!(cluster.fails(&["get", "pod", "nope"]), "Error from server (NotFound): pods \"nope\" not found\n");
    assert!(cluster
        .fails(&["create", "-f", &file])
        .contains("Error from server (AlreadyExists): pods \"web\" already exists"));
    assert!(cluster.fails(&["get", "widgets"]).contains("doesn't have a resource type \"widgets\""));
    assert_eq!(cluster.ok(&["delete", "pod", "web"]), "pod \"web\" deleted\n");
    let empty = cluster.rkctl(&["get", "pods"]);
    assert_eq!(text(&empty.stderr), "No resources found in default namespace.\n");
}

#[test]
fn get_yaml_edit_and_update_round_trips_and_detects_conflicts() {
    let cluster = Cluster::up();
    cluster.ok(&["create", "-f", &cluster.write("rc.yaml", RC)]);
    // The controller manager writes the RC's status meanwhile; an edit that meets that is a
    // Conflict and is simply made again on a fresh copy, as a kubectl user would.
    let mut attempts = 0;
    let edited = loop {
        let yaml = cluster.ok(&["get", "rc", "frontend", "-o", "yaml"]);
        let edited = yaml.replace("replicas: 2", "replicas: 5");
        assert_ne!(edited, yaml);
        let out = cluster.rkctl_stdin(&["update", "-f", "-"], &edited);
        if out.status.success() {
            assert_eq!(text(&out.stdout), "replicationcontroller/frontend replaced\n");
            break edited;
        }
        assert!(text(&out.stderr).contains("(Conflict)") && attempts < 10, "{}", text(&out.stderr));
        attempts += 1;
    };
    assert_eq!(cluster.ok(&["get", "rc", "frontend", "-o", "jsonpath={.spec.replicas}"]), "5");
    // The same stale manifest again: its resourceVersion is no longer current.
    let stale = cluster.rkctl_stdin(&["replace", "-f", "-"], &edited.replace("replicas: 5", "replicas: 7"));
    assert!(!stale.status.success());
    assert!(
        text(&stale.stderr).contains(
            "Error from server (Conflict): Operation cannot be fulfilled on replicationcontrollers \"frontend\""
        ),
        "{}",
        text(&stale.stderr)
    );
    assert_eq!(
        cluster.ok(&["get", "rc", "frontend", "-o", "jsonpath={.spec.replicas}"]),
        "5",
        "a failed update changes nothing"
    );

    let table = cluster.ok(&["get", "rc"]);
    assert!(table.starts_with("NAME       DESIRED   CURRENT   READY   AGE\nfrontend   5         "), "{table}");
    assert_eq!(cluster.ok(&["scale", "rc", "frontend", "--replicas=1"]), "replicationcontroller/frontend scaled\n");
    assert_eq!(cluster.ok(&["get", "rc/frontend", "-o", "jsonpath={.spec.replicas}"]), "1");
    assert_eq!(
        cluster.ok(&["apply", "-f", &cluster.write("rc2.yaml", RC)]),
        "replicationcontroller/frontend configured\n"
    );
    assert_eq!(cluster.ok(&["get", "rc/frontend", "-o", "jsonpath={.spec.replicas}"]), "2");
}

#[test]
fn label_annotate_and_selectors() {
    let cluster = Cluster::up();
    cluster.ok(&["create", "-f", &cluster.write("pod.yaml", POD)]);
    assert_eq!(cluster.ok(&["label", "pod", "web", "tier=front"]), "pod/web labeled\n");
    let clash = cluster.fails(&["label", "pod", "web", "tier=back"]);
    assert!(clash.contains("'tier' already has a value (front), and --overwrite is false"), "{clash}");
    cluster.ok(&["label", "pods/web", "tier=back", "--overwrite"]);
    assert_eq!(cluster.ok(&["get", "pods", "-l", "tier=back", "-o", "name"]), "pod/web\n");
    assert_eq!(cluster.ok(&["get", "pods", "-l", "tier in (front)", "-o", "name"]), "");
    cluster.ok(&["label", "pod", "web", "tier-"]);
    assert_eq!(cluster.ok(&["get", "pods", "-l", "!tier", "-o", "name"]), "pod/web\n");
    assert_eq!(cluster.ok(&["annotate", "pod", "web", "owner=ops"]), "pod/web annotated\n");
    assert_eq!(cluster.ok(&["get", "pod", "web", "-o", "jsonpath={.metadata.annotations.owner}"]), "ops");
    assert!(cluster.fails(&["get", "pods", "-l", "tier in nonsense"]).contains("invalid label selector"));
    assert_eq!(cluster.ok(&["delete", "pods", "-l", "app=web"]), "pod \"web\" deleted\n");
}

#[test]
fn an_invalid_manifest_is_rejected_whole() {
    let cluster = Cluster::up();
    let typo = POD.replace("image: hello:1.0", "image: hello:1.0\n    imagePullPolicyy: Always");
    let both = format!("{RC}---\n{typo}");
    let error = cluster.fails(&["create", "-f", &cluster.write("both.yaml", &both)]);
    assert!(error.contains("unknown field \"spec.containers[0].imagePullPolicyy\""), "{error}");
    assert_eq!(
        text(&cluster.rkctl(&["get", "rc"]).stderr),
        "No resources found in default namespace.\n",
        "nothing was created"
    );
    let lax = cluster.rkctl(&["create", "--validate=false", "-f", &cluster.write("typo.yaml", &typo)]);
    assert!(lax.status.success());
    assert!(
        text(&lax.stderr).contains("warning") && text(&lax.stderr).contains("imagePullPolicyy"),
        "{}",
        text(&lax.stderr)
    );
    let old = cluster.fails(&[
        "create",
        "-f",
        &cluster.write("old.yaml", &POD.replace("apiVersion: v1", "apiVersion: v1beta3")),
    ]);
    assert!(old.contains("rk serves apiVersion v1 only"), "{old}");
    let invalid = cluster.fails(&[
        "create",
        "-f",
        &cluster.write("bad.yaml", &POD.replace("containerPort: 8080", "containerPort: 0")),
    ]);
    assert!(
        invalid
            .contains("Error from server (Invalid): Pod \"web\" is invalid: spec.containers[0].ports[0].containerPort"),
        "{invalid}"
    );
}

#[test]
fn namespaces_all_namespaces_and_api_resources() {
    let cluster = Cluster::up();
    let ns = "apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n";
    cluster.ok(&["create", "-f", &cluster.write("ns.yaml", ns)]);
    cluster.ok(&["create", "-n", "team", "-f", &cluster.write("pod.yaml", POD)]);
    cluster.ok(&["create", "-f", &cluster.write("pod.yaml", POD)]);
    let all = cluster.ok(&["get", "pods", "-A"]);
    assert!(all.starts_with("NAMESPACE   NAME   READY"), "{all}");
    assert!(all.contains("\ndefault     web") && all.contains("\nteam        web"), "{all}");
    assert_eq!(cluster.ok(&["get", "pods", "-n", "team", "-o", "name"]), "pod/web\n");
    let resources = cluster.ok(&["api-resources"]);
    assert!(resources.starts_with("NAME"), "{resources}");
    assert!(
        resources.contains("pods                     po           v1           true         Pod")
            || resources
                .lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["pods", "po", "v1", "true", "Pod"]),
        "{resources}"
    );
    let missing_ns = cluster.fails(&["create", "-n", "nowhere", "-f", &cluster.write("pod2.yaml", POD)]);
    assert!(missing_ns.contains("namespaces \"nowhere\" not found"), "{missing_ns}");
}

#[test]
fn get_watch_prints_changes_as_they_happen() {
    let cluster = Cluster::up();
    let mut watch =
        cluster.command().args(["get", "pods", "-w"]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let stdout = watch.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    // The header comes once the initial (empty) list is done and the watch is opening.
    let header = rx.recv_timeout(Duration::from_secs(15)).expect("a header line");
    assert!(header.starts_with("NAME"), "{header}");
    cluster.ok(&["create", "-f", &cluster.write("pod.yaml", POD)]);
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut seen = Vec::new();
    while !seen.iter().any(|l: &String| l.starts_with("web ")) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => panic!("no watch output for the new pod; saw {seen:?}"),
        }
    }
    watch.kill().unwrap();
    watch.wait().unwrap();
}

#[test]
fn directories_delete_by_file_and_all_server_flags_and_describe() {
    let cluster = Cluster::up();
    let dir = cluster.dir.path().join("manifests");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("a-rc.yaml"), RC).unwrap();
    std::fs::write(dir.join("b-svc.json"), r#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"frontend"},"spec":{"selector":{"app":"frontend"},"ports":[{"port":80,"targetPort":8080}]}}"#).unwrap();
    std::fs::write(dir.join("notes.txt"), "not a manifest").unwrap();
    let dir = dir.display().to_string();
    assert_eq!(
        cluster.ok(&["create", "-f", &dir]),
        "replicationcontroller/frontend created\nservice/frontend created\n"
    );
    let services = cluster.ok(&["get", "svc"]);
    assert!(services.starts_with("NAME       TYPE        CLUSTER-IP"), "{services}");
    assert!(services.contains("ClusterIP   10.96.") && services.contains("<none>        80/TCP"), "{services}");
    assert_eq!(cluster.ok(&["get", "rc,svc", "-o", "name"]), "replicationcontroller/frontend\nservice/frontend\n");
    let all = cluster.ok(&["get", "all"]);
    assert!(all.starts_with("NAME ") && all.contains("\npod/frontend-"), "{all}");
    assert!(
        all.contains("\n\nNAME ")
            && all.contains("\nservice/frontend ")
            && all.contains("\nreplicationcontroller/frontend "),
        "{all}"
    );
    assert!(cluster.fails(&["get", "pods,widgets"]).contains("\"widgets\""));
    assert!(cluster.fails(&["get", "pods,svc", "web"]).contains("names cannot be given"));
    let node = "{apiVersion: v1, kind: Node, metadata: {name: node1, labels: {disktype: ssd}}, status: {conditions: [{type: Ready, status: 'True'}], capacity: {cpu: 2, memory: 2Gi, pods: 110}}}";
    cluster.ok(&["create", "-f", &cluster.write("node.yaml", node)]);
    let nodes = cluster.ok(&["get", "no"]);
    assert!(nodes.starts_with("NAME    STATUS   ROLES    AGE   VERSION\nnode1   Ready    <none>   "), "{nodes}");
    for (kind, name, expect) in
        [("rc", "frontend", "Replicas:"), ("svc", "frontend", "IP:"), ("node", "node1", "disktype=ssd")]
    {
        let text = cluster.ok(&["describe", kind, name]);
        assert!(text.contains(expect), "describe {kind}: {text}");
    }

    // The server from the flag or the environment beats the config file.
    let server = serde_json::from_str::<serde_json::Value>(
        &std::fs::read_to_string(cluster.dir.path().join("config.json")).unwrap(),
    )
    .unwrap()["server"]
        .as_str()
        .unwrap()
        .to_string();
    let via_env = std::process::Command::new(common::rkctl_binary())
        .env("RK_SERVER", &server)
        .env("RK_STATE_DIR", "/nonexistent")
        .args(["get", "rc", "-o", "name"])
        .output()
        .unwrap();
    assert_eq!(text(&via_env.stdout), "replicationcontroller/frontend\n");
    let wrong = cluster.rkctl(&["--server", "127.0.0.1:1", "get", "rc"]);
    assert!(
        text(&wrong.stderr).contains("cannot connect to the rk apiserver at http://127.0.0.1:1"),
        "{}",
        text(&wrong.stderr)
    );
    assert!(cluster.ok(&["version"]).contains("Client Version: rkctl"));

    assert_eq!(
        cluster.ok(&["delete", "-f", &dir]),
        "replicationcontroller \"frontend\" deleted\nservice \"frontend\" deleted\n"
    );
    cluster.ok(&["create", "-f", &cluster.write("pod.yaml", POD)]);
    cluster.ok(&["create", "-f", &cluster.write("pod2.yaml", &POD.replace("name: web", "name: web2"))]);
    assert!(cluster.fails(&["delete", "pods"]).contains("--all"));
    // The controller's pods may still be on their way out (the garbage collector deletes them).
    let deleted = cluster.ok(&["delete", "pods", "--all"]);
    assert!(deleted.contains("pod \"web\" deleted\npod \"web2\" deleted\n"), "{deleted}");
    assert!(deleted.lines().all(|line| line.ends_with(" deleted")), "{deleted}");
}
