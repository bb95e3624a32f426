//! rk-kubelet end to end: `cluster up` with a node whose kubelet runs pods
//! on the machine's test dockerd; everything is driven through rkctl and
//! checked against what Docker really runs.

mod common;

use common::{eventually, text, NodeCluster};

const BUSYBOX: &str = "rk/busybox:1.35";
const HELLO: &str = "rk/hello:1.0";

fn pod_yaml(name: &str, containers: &str) -> String {
    format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  labels: {{app: {name}}}\nspec:\n  terminationGracePeriodSeconds: 2\n  containers:\n{containers}")
}

fn jsonpath(cluster: &NodeCluster, pod: &str, path: &str) -> String {
    cluster.ok(&["get", "pod", pod, "-o", &format!("jsonpath={path}")])
}

fn wait_running(cluster: &NodeCluster, pod: &str) {
    eventually(cluster, &["get", "pod", pod, "-o", "jsonpath={.status.phase}"], &format!("{pod} Running"), |phase| {
        phase == "Running"
    });
}

fn create(cluster: &NodeCluster, name: &str, yaml: &str) {
    let file = cluster.write(&format!("{name}.yaml"), yaml);
    cluster.ok(&["create", "-f", &file]);
}

#[test]
fn node_registers_ready_with_capacity_and_runtime() {
    let cluster = NodeCluster::up(&["--node-labels=disktype=ssd"]);
    let node = &cluster.node;
    let nodes = eventually(&cluster, &["get", "nodes", "--show-labels"], "node Ready", |t| t.contains(" Ready "));
    assert!(nodes.contains(node) && nodes.contains("disktype=ssd"), "{nodes}");
    let runtime = cluster.ok(&["get", "node", node, "-o", "jsonpath={.status.nodeInfo.containerRuntimeVersion}"]);
    assert!(runtime.starts_with("docker://"), "{runtime}");
    let cpu = cluster.ok(&["get", "node", node, "-o", "jsonpath={.status.capacity.cpu}"]);
    assert!(cpu.parse::<u32>().is_ok_and(|n| n >= 1), "cpu capacity {cpu:?}");
}

#[test]
fn containers_of_a_pod_share_localhost_and_the_pod_has_its_own_ip_and_hostname() {
    let cluster = NodeCluster::up(&[]);
    let containers = format!(
        "  - name: web\n    image: {HELLO}\n    ports: [{{containerPort: 8080}}]\n  - name: client\n    image: {BUSYBOX}\n    command: [sh, -c, 'until printf \"GET / HTTP/1.0\\r\\n\\r\\n\" | nc 127.0.0.1 8080; do sleep 0.2; done; sleep 3600']\n"
    );
    create(&cluster, "pair", &pod_yaml("pair", &containers));
    wait_running(&cluster, "pair");
    let ip = jsonpath(&cluster, "pair", "{.status.podIP}");
    let prefix = cluster.ok(&["get", "node", &cluster.node, "-o", "jsonpath={.spec.podCIDR}"]);
    let prefix = prefix.rsplit_once('.').unwrap().0;
    assert!(ip.starts_with(prefix), "pod IP {ip} is not in the node's pod CIDR {prefix}");
    let logs = eventually(&cluster, &["logs", "pair", "-c", "client"], "client got an answer", |l| l.contains("Hello"));
    assert!(logs.contains("Hello from pair!"), "the hostname is the pod name: {logs}");
    let ready = jsonpath(&cluster, "pair", "{.status.containerStatuses[*].ready}");
    assert_eq!(ready, "true true");
}

#[test]
fn service_variables_are_in_the_container_and_exec_returns_output_and_exit_codes() {
    let cluster = NodeCluster::up(&[]);
    let service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: redis-master\nspec:\n  selector: {app: redis}\n  ports:\n  - {name: redis, port: 6379, targetPort: 6379}\n";
    create(&cluster, "svc", service);
    let cluster_ip = cluster.ok(&["get", "svc", "redis-master", "-o", "jsonpath={.spec.clusterIP}"]);
    let containers = format!(
        "  - name: shell\n    image: {BUSYBOX}\n    command: [sleep, '3600']\n    env:\n    - {{name: MY_POD, valueFrom: {{fieldRef: {{fieldPath: metadata.name}}}}}}\n    - {{name: REDIS_MASTER_SERVICE_PORT, value: overridden}}\n"
    );
    create(&cluster, "envpod", &pod_yaml("envpod", &containers));
    wait_running(&cluster, "envpod");
    let env = cluster.ok(&["exec", "envpod", "--", "env"]);
    for expected in [
        format!("REDIS_MASTER_SERVICE_HOST={cluster_ip}"),
        "REDIS_MASTER_SERVICE_PORT=overridden".to_string(),
        "REDIS_MASTER_SERVICE_PORT_REDIS=6379".to_string(),
        format!("REDIS_MASTER_PORT=tcp://{cluster_ip}:6379"),
        format!("REDIS_MASTER_PORT_6379_TCP=tcp://{cluster_ip}:6379"),
        "REDIS_MASTER_PORT_6379_TCP_PROTO=tcp".to_string(),
        "REDIS_MASTER_PORT_6379_TCP_PORT=6379".to_string(),
        format!("REDIS_MASTER_PORT_6379_TCP_ADDR={cluster_ip}"),
        "MY_POD=envpod".to_string(),
    ] {
        assert!(env.lines().any(|l| l == expected), "missing {expected} in:\n{env}");
    }
    let out = cluster.rkctl(&["exec", "envpod", "--", "sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 7"]);
    assert_eq!(out.status.code(), Some(7), "the command's exit code is rkctl's");
    assert_eq!(text(&out.stdout), "to-stdout\n");
    assert!(text(&out.stderr).contains("to-stderr"));
    let input = cluster.rkctl_stdin(&["exec", "-i", "envpod", "--", "tr", "a-z", "A-Z"], "shout\n");
    assert_eq!(text(&input.stdout), "SHOUT\n");
}

#[test]
fn a_killed_container_is_restarted_and_a_crashing_one_backs_off() {
    let cluster = NodeCluster::up(&[]);
    let containers = format!("  - name: app\n    image: {BUSYBOX}\n    command: [sleep, '3600']\n");
    create(&cluster, "victim", &pod_yaml("victim", &containers));
    wait_running(&cluster, "victim");
    let id = jsonpath(&cluster, "victim", "{.status.containerStatuses[0].containerID}");
    let id = id.trim_start_matches("docker://");
    let killed = cluster.docker(&["kill", id]);
    assert!(killed.status.success(), "{}", text(&killed.stderr));
    eventually(&cluster, &["get", "pod", "victim"], "restart count 1 and Running", |t| {
        t.lines().nth(1).is_some_and(|row| row.contains("Running") && row.split_whitespace().nth(3) == Some("1"))
    });
    let last = jsonpath(&cluster, "victim", "{.status.containerStatuses[0].lastState.terminated.exitCode}");
    assert_eq!(last, "137");

    let crashing = format!("  - name: app\n    image: {BUSYBOX}\n    command: [sh, -c, 'echo crashing; exit 3']\n");
    create(&cluster, "crasher", &pod_yaml("crasher", &crashing));
    eventually(&cluster, &["get", "pod", "crasher"], "CrashLoopBackOff", |t| t.contains("CrashLoopBackOff"));
    let last = jsonpath(&cluster, "crasher", "{.status.containerStatuses[0].lastState.terminated.exitCode}");
    assert_eq!(last, "3");
    let previous = cluster.ok(&["logs", "crasher", "--previous"]);
    assert!(previous.contains("crashing"), "{previous}");
}

#[test]
fn a_missing_image_reports_err_image_pull_with_dockers_message() {
    let cluster = NodeCluster::up(&[]);
    let containers = "  - name: app\n    image: registry.invalid/nothing:1.0\n";
    create(&cluster, "noimage", &pod_yaml("noimage", containers));
    eventually(&cluster, &["get", "pod", "noimage"], "ErrImagePull or ImagePullBackOff", |t| {
        t.contains("ErrImagePull") || t.contains("ImagePullBackOff")
    });
    let events = eventually(&cluster, &["get", "events"], "a Failed event", |t| t.contains("Failed to pull image"));
    assert!(events.contains("registry.invalid/nothing:1.0"), "{events}");
}

#[test]
fn logs_follow_and_tail() {
    let cluster = NodeCluster::up(&[]);
    let containers =
        format!("  - name: app\n    image: {BUSYBOX}\n    command: [sh, -c, 'i=0; while true; do echo line $i; i=$((i+1)); sleep 0.2; done']\n");
    create(&cluster, "talker", &pod_yaml("talker", &containers));
    wait_running(&cluster, "talker");
    let tail = eventually(&cluster, &["logs", "talker", "--tail=2"], "two lines", |t| t.lines().count() == 2);
    assert!(tail.lines().all(|l| l.starts_with("line ")), "{tail}");
    let mut follow =
        cluster.command().args(["logs", "-f", "talker"]).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let mut reader = std::io::BufReader::new(follow.stdout.take().unwrap());
    let mut seen = Vec::new();
    // Lines keep arriving while following: read until one printed after we started.
    let started = tail.lines().last().unwrap().trim_start_matches("line ").parse::<u64>().unwrap();
    loop {
        let mut line = String::new();
        assert!(std::io::BufRead::read_line(&mut reader, &mut line).unwrap() > 0, "the stream ended: {seen:?}");
        let n: u64 = line.trim().trim_start_matches("line ").parse().unwrap();
        seen.push(n);
        if n > started + 3 {
            break;
        }
    }
    follow.kill().unwrap();
    let _ = follow.wait();
}

#[test]
fn deleting_a_controllers_pod_brings_a_running_replacement_and_deletion_is_graceful() {
    let cluster = NodeCluster::up(&[]);
    let rc = format!(
        "apiVersion: v1\nkind: ReplicationController\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  selector: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      terminationGracePeriodSeconds: 2\n      containers:\n      - name: web\n        image: {BUSYBOX}\n        command: [sh, -c, 'trap \"\" TERM; sleep 3600']\n"
    );
    create(&cluster, "rc", &rc);
    let first =
        eventually(&cluster, &["get", "pods", "-l", "app=web", "-o", "name"], "a pod", |t| t.lines().count() == 1);
    let first = first.trim().trim_start_matches("pod/").to_string();
    wait_running(&cluster, &first);
    let start = std::time::Instant::now();
    cluster.ok(&["delete", "pod", &first]);
    eventually(&cluster, &["get", "pods", "-l", "app=web"], "a Running replacement", |t| {
        t.lines().skip(1).any(|row| !row.starts_with(&first) && row.contains("Running"))
    });
    eventually(&cluster, &["get", "pods", "-o", "name"], "the old pod gone", |t| !t.contains(&first));
    // The container ignores SIGTERM: it dies by SIGKILL once the 2 s grace period is over.
    assert!(start.elapsed() >= std::time::Duration::from_secs(2), "deleted before its grace period ended");
    let label = format!("label=io.rk.pod.name={first}");
    let left = text(&cluster.docker(&["ps", "-q", "--filter", &label]).stdout);
    assert!(left.trim().is_empty(), "containers of the deleted pod still run: {left}");

    let replacement =
        cluster.ok(&["get", "pods", "-l", "app=web", "-o", "name"]).trim().trim_start_matches("pod/").to_string();
    wait_running(&cluster, &replacement);
    let forced = std::time::Instant::now();
    cluster.ok(&["delete", "pod", &replacement, "--grace-period=0", "--force"]);
    eventually(&cluster, &["get", "pods", "-o", "name"], "the forced pod gone", |t| !t.contains(&replacement));
    assert!(forced.elapsed() < std::time::Duration::from_secs(2), "a forced deletion is immediate");
}

#[test]
fn a_restarted_kubelet_keeps_the_containers_and_host_path_data_survives_the_pod() {
    let cluster = NodeCluster::up(&[]);
    let data = tempfile::tempdir().unwrap();
    let pod = |name: &str, command: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  terminationGracePeriodSeconds: 1\n  volumes:\n  - {{name: data, hostPath: {{path: {}}}}}\n  containers:\n  - name: app\n    image: {BUSYBOX}\n    command: [sh, -c, '{command}']\n    volumeMounts: [{{name: data, mountPath: /data}}]\n",
            data.path().display()
        )
    };
    create(&cluster, "writer", &pod("writer", "echo kept > /data/file; sleep 3600"));
    wait_running(&cluster, "writer");
    let before = jsonpath(&cluster, "writer", "{.status.containerStatuses[0].containerID}");
    cluster.kill("rk-kubelet");
    cluster.start_missing();
    // A sync after the restart must find the container it already runs.
    cluster.ok(&["label", "pod", "writer", "touched=yes"]);
    eventually(
        &cluster,
        &["get", "pod", "writer", "-o", "jsonpath={.status.containerStatuses[0].ready}"],
        "ready",
        |t| t == "true",
    );
    let after = jsonpath(&cluster, "writer", "{.status.containerStatuses[0].containerID}");
    assert_eq!(before, after, "the restarted kubelet replaced the container");
    let row = cluster.ok(&["get", "pod", "writer", "--no-headers"]);
    assert_eq!(row.split_whitespace().nth(3), Some("0"), "restarts: {row}");

    cluster.ok(&["delete", "pod", "writer"]);
    eventually(&cluster, &["get", "pods", "-o", "name"], "writer gone", |t| !t.contains("writer"));
    create(&cluster, "reader", &pod("reader", "cat /data/file; sleep 3600"));
    wait_running(&cluster, "reader");
    let logs = eventually(&cluster, &["logs", "reader"], "the file", |t| !t.is_empty());
    assert_eq!(logs, "kept\n");
}

#[test]
fn readiness_gates_endpoints_and_a_failing_liveness_probe_restarts_the_container() {
    let cluster = NodeCluster::up(&[]);
    let service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: probed}\n  ports:\n  - {port: 80, targetPort: 8080}\n";
    create(&cluster, "svc", service);
    // Ready only once /tmp/ready exists; alive only while /tmp/dead does not.
    let containers = format!(
        "  - name: app\n    image: {BUSYBOX}\n    command: [sleep, '3600']\n    readinessProbe:\n      exec: {{command: [cat, /tmp/ready]}}\n      periodSeconds: 1\n    livenessProbe:\n      exec: {{command: [sh, -c, '! test -e /tmp/dead']}}\n      periodSeconds: 1\n      failureThreshold: 2\n"
    );
    create(&cluster, "probed", &pod_yaml("probed", &containers));
    wait_running(&cluster, "probed");
    let ip = jsonpath(&cluster, "probed", "{.status.podIP}");
    let not_ready = eventually(&cluster, &["get", "endpoints", "web", "-o", "json"], "a not-ready address", |t| {
        t.contains("notReadyAddresses")
    });
    assert!(not_ready.contains(&ip) && !not_ready.contains("\"addresses\""), "{not_ready}");
    assert_eq!(jsonpath(&cluster, "probed", "{.status.conditions[?(@.type==\"Ready\")].status}"), "False");

    cluster.ok(&["exec", "probed", "--", "touch", "/tmp/ready"]);
    eventually(&cluster, &["get", "endpoints", "web"], "the pod IP in the endpoints", |t| {
        t.contains(&format!("{ip}:8080"))
    });
    assert_eq!(jsonpath(&cluster, "probed", "{.status.conditions[?(@.type==\"Ready\")].status}"), "True");

    cluster.ok(&["exec", "probed", "--", "touch", "/tmp/dead"]);
    eventually(&cluster, &["get", "pod", "probed", "--no-headers"], "a restart after the liveness failure", |t| {
        t.split_whitespace().nth(3) == Some("1")
    });
    let events = eventually(&cluster, &["get", "events"], "the Unhealthy event", |t| t.contains("Unhealthy"));
    assert!(events.contains("Liveness probe failed"), "{events}");
    // The new container starts without /tmp/ready: not ready again.
    eventually(&cluster, &["get", "endpoints", "web", "-o", "json"], "not ready after the restart", |t| {
        t.contains("notReadyAddresses")
    });
}

#[test]
fn a_pod_that_does_not_fit_the_node_fails_admission_and_never_pull_needs_the_image() {
    let cluster = NodeCluster::up(&[]);
    // Bound straight to the node (no scheduler), asking more CPU than any machine here has.
    let greedy = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: greedy\nspec:\n  nodeName: {}\n  containers:\n  - name: app\n    image: {BUSYBOX}\n    resources: {{requests: {{cpu: '512'}}}}\n",
        cluster.node
    );
    create(&cluster, "greedy", &greedy);
    eventually(&cluster, &["get", "pod", "greedy", "-o", "jsonpath={.status.reason}"], "OutOfcpu", |t| t == "OutOfcpu");
    assert_eq!(jsonpath(&cluster, "greedy", "{.status.phase}"), "Failed");
    assert!(jsonpath(&cluster, "greedy", "{.status.message}").contains("Insufficient cpu"));

    let never = "  - name: app\n    image: rk/not-built:1.0\n    imagePullPolicy: Never\n";
    create(&cluster, "never", &pod_yaml("never", never));
    eventually(&cluster, &["get", "pod", "never"], "ErrImageNeverPull", |t| t.contains("ErrImageNeverPull"));
}

#[test]
fn dead_runs_are_pruned_to_the_latest_two() {
    let cluster = NodeCluster::up(&[]);
    let crashing = format!("  - name: app\n    image: {BUSYBOX}\n    command: [sh, -c, 'exit 1']\n");
    create(&cluster, "pruned", &pod_yaml("pruned", &crashing));
    eventually(&cluster, &["get", "pod", "pruned", "--no-headers"], "three restarts", |t| {
        t.split_whitespace().nth(3).and_then(|n| n.parse::<u32>().ok()).is_some_and(|n| n >= 3)
    });
    let label = "label=io.rk.container.name=app".to_string();
    let pod = "label=io.rk.pod.name=pruned".to_string();
    let node = format!("label=io.rk.node={}", cluster.node);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let ids = text(&cluster.docker(&["ps", "-aq", "--filter", &label, "--filter", &pod, "--filter", &node]).stdout);
        if ids.lines().count() <= 2 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "old runs are not pruned: {ids}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn restarting_dockerd_brings_the_pods_back_with_their_host_path_data() {
    // The node's own dockerd (no --docker-host), so the test may restart it.
    let cidr = rk_testkit::lease_cluster_cidr();
    let cluster = common::Cluster::up_with(&[
        &format!("--cluster-cidr={}", cidr.cidr()),
        &format!("--node-name=own-docker-{}", rk_testkit::free_port()),
        &format!("--kubelet-port={}", rk_testkit::free_port()),
        &format!("--kubelet-health-port={}", rk_testkit::free_port()),
        "--kubelet-arg=--backoff-initial=1",
    ]);
    let data = tempfile::tempdir().unwrap();
    let pod = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: durable\nspec:\n  volumes:\n  - {{name: data, hostPath: {{path: {}}}}}\n  containers:\n  - name: app\n    image: {BUSYBOX}\n    command: [sh, -c, 'echo run >> /data/runs; trap \"exit 0\" TERM; sleep 3600 & wait']\n    volumeMounts: [{{name: data, mountPath: /data}}]\n",
        data.path().display()
    );
    let file = cluster.write("durable.yaml", &pod);
    cluster.ok(&["create", "-f", &file]);
    let running = |c: &common::Cluster| {
        eventually(c, &["get", "pod", "durable", "-o", "jsonpath={.status.phase}"], "Running", |p| p == "Running");
    };
    running(&cluster);
    let before = cluster.ok(&["get", "pod", "durable", "-o", "jsonpath={.status.containerStatuses[0].containerID}"]);
    let pid = std::fs::read_to_string(cluster.dir.path().join("dockerd.pid")).unwrap();
    assert!(std::process::Command::new("kill").args(["-TERM", pid.trim()]).status().unwrap().success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::path::Path::new(&format!("/proc/{}", pid.trim())).exists() {
        assert!(std::time::Instant::now() < deadline, "dockerd did not stop");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    cluster.start_missing();
    eventually(
        &cluster,
        &["get", "pod", "durable", "-o", "jsonpath={.status.containerStatuses[0].containerID}"],
        "a new container",
        |id| !id.is_empty() && id != before,
    );
    running(&cluster);
    let runs = std::fs::read_to_string(data.path().join("runs")).unwrap();
    assert_eq!(runs, "run\nrun\n", "the second run appended to the first run's data");
}

#[test]
fn a_pod_deleted_while_the_kubelet_is_down_has_its_containers_removed_at_restart() {
    let cluster = NodeCluster::up(&[]);
    let containers = format!("  - name: app\n    image: {BUSYBOX}\n    command: [sleep, '3600']\n");
    create(&cluster, "gone", &pod_yaml("gone", &containers));
    wait_running(&cluster, "gone");
    cluster.kill("rk-kubelet");
    cluster.ok(&["delete", "pod", "gone", "--grace-period=0", "--force"]);
    let label = "label=io.rk.pod.name=gone";
    assert!(!text(&cluster.docker(&["ps", "-q", "--filter", label]).stdout).trim().is_empty());
    cluster.start_missing();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !text(&cluster.docker(&["ps", "-aq", "--filter", label]).stdout).trim().is_empty() {
        assert!(std::time::Instant::now() < deadline, "the deleted pod's containers are still there");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn a_host_port_is_published_on_the_node() {
    let cluster = NodeCluster::up(&[]);
    let port = rk_testkit::free_port();
    let containers =
        format!("  - name: web\n    image: {HELLO}\n    ports: [{{containerPort: 8080, hostPort: {port}}}]\n");
    create(&cluster, "published", &pod_yaml("published", &containers));
    wait_running(&cluster, "published");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let answer = loop {
        use std::io::{Read, Write};
        let attempt = std::net::TcpStream::connect(("127.0.0.1", port)).and_then(|mut stream| {
            stream.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
            let mut answer = String::new();
            stream.read_to_string(&mut answer)?;
            Ok(answer)
        });
        match attempt {
            Ok(answer) if answer.contains("Hello from published!") => break answer,
            other => assert!(std::time::Instant::now() < deadline, "no answer on host port {port}: {other:?}"),
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let timestamps = cluster.ok(&["logs", "published", "--timestamps"]);
    let first = timestamps.lines().next().unwrap_or_default();
    assert!(
        first.split_whitespace().next().is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok()),
        "{first}"
    );
}

#[test]
fn cluster_down_removes_the_nodes_containers_and_network() {
    let cluster = NodeCluster::up(&[]);
    let containers = format!("  - name: app\n    image: {BUSYBOX}\n    command: [sleep, '3600']\n");
    create(&cluster, "leftover", &pod_yaml("leftover", &containers));
    wait_running(&cluster, "leftover");
    let down = cluster.ok(&["cluster", "down"]);
    assert!(down.contains("stopped rk-kubelet"), "{down}");
    let label = format!("label=io.rk.node={}", cluster.node);
    let left = text(&cluster.docker(&["ps", "-aq", "--filter", &label]).stdout);
    assert!(left.trim().is_empty(), "containers left after cluster down: {left}");
    let network = cluster.docker(&["network", "inspect", &format!("rk-pods-{}", cluster.node)]);
    assert!(!network.status.success(), "the pod network is left after cluster down");
}
