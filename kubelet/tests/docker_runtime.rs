//! DockerRuntime against the shared test dockerd: real pods of real
//! containers, on a bridge network in this process's leased CIDR.

mod docker_support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use docker_support::{TestNode, DEADLINE};
use futures::StreamExt;
use rk_kubelet::runtime::{
    labels, ContainerRuntime, ContainerState, ExecChunk, ExecOptions, LogOptions, PodNetwork, RuntimeError,
};
use rk_testkit::eventually;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn containers_of_a_pod_share_localhost_and_the_pod_hostname() {
    let node = TestNode::start("localhost").await;
    let pod = node.sandbox("talkers");
    let sandbox = node.runtime.run_sandbox(&pod).await.unwrap();
    let server = node.shell(&pod, &sandbox, "server", "while true; do echo hello-over-localhost | nc -l -p 9000; done");
    let client = node.shell(&pod, &sandbox, "client", "until nc 127.0.0.1 9000; do sleep 0.1; done");
    let server = node.run(&server).await;
    let client = node.run(&client).await;

    let done = node.wait_container(&client, "the client to exit", |c| c.state == ContainerState::Exited).await;
    assert_eq!(done.exit_code, 0, "{done:?}");
    let output = node.logs(&client, LogOptions::default()).await;
    assert!(output.contains("hello-over-localhost"), "the client read {output:?}");

    let hostname = node.runtime.exec_sync(&server, &["hostname".to_string()], Duration::from_secs(10)).await.unwrap();
    assert_eq!(String::from_utf8_lossy(&hostname.output).trim(), "talkers");
    node.clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_decodes_labels_attempts_exit_codes_and_the_pod_ip() {
    let node = TestNode::start("list").await;
    let mut pod = node.sandbox("lister");
    pod.attempt = 1;
    let sandbox = node.runtime.run_sandbox(&pod).await.unwrap();
    let mut failing = node.shell(&pod, &sandbox, "failing", "exit 3");
    failing.attempt = 2;
    failing.labels.insert("io.rk.test.extra".to_string(), "kept".to_string());
    failing.memory_limit_bytes = Some(64 * 1024 * 1024);
    failing.termination_grace_seconds = 7;
    let failing = node.run(&failing).await;
    let completing = node.run(&node.shell(&pod, &sandbox, "completing", "true")).await;

    let failed =
        node.wait_container(&failing, "the failing container to exit", |c| c.state == ContainerState::Exited).await;
    assert_eq!((failed.exit_code, failed.reason.as_str()), (3, "Error"));
    assert_eq!(failed.container_name.as_deref(), Some("failing"));
    assert_eq!(failed.attempt, 2);
    assert_eq!(
        (failed.pod_uid.as_str(), failed.namespace.as_str(), failed.pod_name.as_str()),
        (pod.pod_uid.as_str(), "default", "lister")
    );
    assert_eq!(failed.labels.get("io.rk.test.extra").map(String::as_str), Some("kept"));
    assert_eq!(failed.labels.get(labels::TERMINATION_GRACE).map(String::as_str), Some("7"));
    assert!(!failed.started_at.is_empty() && !failed.finished_at.is_empty(), "{failed:?}");
    assert_eq!(failed.image, rk_kubelet::images::BUSYBOX_IMAGE);
    assert!(failed.image_id.starts_with("sha256:"), "{}", failed.image_id);
    assert_eq!(failed.ip, None, "only the sandbox reports the pod IP");
    let completed = node
        .wait_container(&completing, "the completing container to exit", |c| c.state == ContainerState::Exited)
        .await;
    assert_eq!((completed.exit_code, completed.reason.as_str()), (0, "Completed"));

    let listed = node.runtime.list_containers().await.unwrap();
    let sandbox_info = listed.iter().find(|c| c.id == sandbox).expect("the sandbox is listed");
    assert!(sandbox_info.is_sandbox());
    assert_eq!((sandbox_info.state, sandbox_info.attempt), (ContainerState::Running, 1));
    assert_eq!(sandbox_info.finished_at, "", "a running container has not finished");
    let ip = sandbox_info.ip.clone().expect("the sandbox has the pod IP");
    let subnet_prefix = node.lease.subnet(0).trim_end_matches("0/24").to_string();
    assert!(ip.starts_with(&subnet_prefix), "pod IP {ip} is outside {}", node.lease.subnet(0));
    assert_eq!(listed.len(), 3, "exactly this node's containers: {listed:?}");

    let inspect = node.runtime.client().inspect_container(&failing, None).await.unwrap();
    let host_config = inspect.host_config.unwrap();
    assert_eq!(host_config.memory, Some(64 * 1024 * 1024));
    assert_eq!(host_config.network_mode, Some(format!("container:{sandbox}")));
    node.clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_network_sandbox_has_no_pod_ip_of_its_own() {
    let node = TestNode::start("hostnet").await;
    let mut pod = node.sandbox("on-host");
    pod.network = PodNetwork::Host;
    let sandbox = node.runtime.run_sandbox(&pod).await.unwrap();
    let info =
        node.wait_container(&sandbox, "the host-network sandbox to run", |c| c.state == ContainerState::Running).await;
    assert_eq!(info.ip, None);
    node.clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_kills_a_container_that_ignores_sigterm_after_the_grace() {
    let node = TestNode::start("stop").await;
    let pod = node.sandbox("stubborn");
    let sandbox = node.runtime.run_sandbox(&pod).await.unwrap();
    let script = "trap '' TERM; echo ready; while true; do sleep 1; done";
    let stubborn = node.run(&node.shell(&pod, &sandbox, "stubborn", script)).await;
    eventually("the trap to be set", DEADLINE, || async {
        node.logs(&stubborn, LogOptions::default()).await.contains("ready").then_some(())
    })
    .await;

    let grace = Duration::from_secs(2);
    let started = Instant::now();
    node.runtime.stop_container(&stubborn, grace).await.unwrap();
    let took = started.elapsed();
    assert!(took >= grace, "stopped after {took:?}, before the grace of {grace:?}");
    assert!(took < grace + Duration::from_secs(10), "stopping took {took:?}");
    let killed =
        node.wait_container(&stubborn, "the container to be dead", |c| c.state == ContainerState::Exited).await;
    assert_eq!(killed.exit_code, 137, "SIGKILL: {killed:?}");

    // Stopping or removing what is already stopped or gone is no error.
    node.runtime.stop_container(&stubborn, grace).await.unwrap();
    node.runtime.remove_container(&stubborn).await.unwrap();
    node.runtime.remove_container(&stubborn).await.unwrap();
    node.runtime.stop_container(&stubborn, grace).await.unwrap();
    assert!(matches!(node.runtime.start_container(&stubborn).await, Err(RuntimeError::NotFound(_))));
    node.clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_sync_returns_output_and_exit_code_and_gives_up_after_the_timeout() {
    let node = TestNode::start("execsync").await;
    let pod = node.sandbox("prober");
    let sandbox = node.runtime.run_sandbox(&pod).await.unwrap();
    let app = node.run(&node.shell(&pod, &sandbox, "app", "while true; do sleep 1; done")).await;

    let command = ["sh", "-c", "echo out; echo err >&2; exit 7"].map(String::from);
    let result = node.runtime.exec_sync(&app, &command, Duration::from_secs(10)).await.unwrap();
    assert_eq!(result.exit_code, 7);
    let output = String::from_utf8_lossy(&result.output);
    assert!(output.contains("out\n") && output.contains("err\n"), "{output:?}");

    let started = Instant::now();
    let slow = node.runtime.exec_sync(&app, &["sleep".to_string(), "30".to_string()], Duration::from_millis(500)).await;
    let error = slow.expect_err("a command past its timeout fails").to_string();
    assert!(error.contains("timed out"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(5), "gave up after {:?}", started.elapsed());

    let missing = node.runtime.exec_sync("no-such-container", &command, Duration::from_secs(5)).await;
    assert!(matches!(missing, Err(RuntimeError::NotFound(_))), "{missing:?}");
    node.clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interactive_exec_carries_stdin_splits_output_and_resizes_the_terminal() {
    let node = TestNode::start("exec").await;
    let pod = node.sandbox("shell");
    let sandbox = node.runtime.run_sandbox(&pod).await.unwrap();
    let app = node.run(&node.shell(&pod, &sandbox, "app", "while true; do sleep 1; done")).await;

    // stdin in, stdout and stderr apart, exit code after the output.
    let script = "cat; echo to-stderr >&2; exit 4";
    let options =
        ExecOptions { command: ["sh", "-c", script].map(String::from).to_vec(), stdin: true, tty: false, size: None };
    let mut session = node.runtime.exec(&app, options).await.unwrap();
    let stdin = session.stdin.take().expect("stdin was asked for");
    stdin.send(Bytes::from_static(b"typed line\n")).await.unwrap();
    drop(stdin);
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    while let Some(chunk) = session.output.next().await {
        match chunk.unwrap() {
            ExecChunk::Stdout(bytes) => stdout.extend_from_slice(&bytes),
            ExecChunk::Stderr(bytes) => stderr.extend_from_slice(&bytes),
        }
    }
    assert_eq!(String::from_utf8_lossy(&stdout), "typed line\n");
    assert_eq!(String::from_utf8_lossy(&stderr), "to-stderr\n");
    assert_eq!(session.exit_code.await.unwrap(), 4);

    // A terminal of the asked size, resized on request.
    let script = "while read line && [ \"$line\" != quit ]; do stty size; done";
    let options = ExecOptions {
        command: ["sh", "-c", script].map(String::from).to_vec(),
        stdin: true,
        tty: true,
        size: Some((80, 24)),
    };
    let mut session = node.runtime.exec(&app, options).await.unwrap();
    let stdin = session.stdin.take().unwrap();
    let mut seen = String::new();
    for (wanted, resize) in [("24 80", None), ("30 100", Some((100, 30)))] {
        if let Some(size) = resize {
            session.resize.send(size).await.unwrap();
        }
        // Asks again until the answer shows: the resize applies asynchronously.
        let deadline = Instant::now() + DEADLINE;
        while !seen.contains(wanted) {
            assert!(Instant::now() < deadline, "the terminal never became {wanted} (rows columns); saw {seen:?}");
            stdin.send(Bytes::from_static(b"size?\n")).await.unwrap();
            if let Ok(Some(chunk)) = tokio::time::timeout(Duration::from_millis(500), session.output.next()).await {
                match chunk.unwrap() {
                    ExecChunk::Stdout(bytes) => seen.push_str(&String::from_utf8_lossy(&bytes)),
                    ExecChunk::Stderr(_) => panic!("a terminal has no separate stderr"),
                }
            }
        }
    }
    stdin.send(Bytes::from_static(b"quit\n")).await.unwrap();
    drop(stdin);
    while session.output.next().await.is_some() {}
    assert_eq!(session.exit_code.await.unwrap(), 0);
    node.clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_interleave_streams_with_tail_timestamps_and_follow() {
    let node = TestNode::start("logs").await;
    let pod = node.sandbox("writer");
    let sandbox = node.runtime.run_sandbox(&pod).await.unwrap();
    let script = "seq 1 5; echo oops >&2; while [ ! -f /tmp/go ]; do sleep 0.1; done; echo after";
    let writer = node.run(&node.shell(&pod, &sandbox, "writer", script)).await;
    eventually("the first lines to be logged", DEADLINE, || async {
        node.logs(&writer, LogOptions::default()).await.contains("oops").then_some(())
    })
    .await;

    // Docker copies stdout and stderr apart: each keeps its order, not their mix.
    let all = node.logs(&writer, LogOptions::default()).await;
    assert_eq!(all.replace("oops\n", ""), "1\n2\n3\n4\n5\n");
    assert_eq!(all.matches("oops\n").count(), 1, "{all:?}");
    let lines: Vec<&str> = all.lines().collect();
    let tail = LogOptions { tail_lines: Some(2), ..Default::default() };
    assert_eq!(node.logs(&writer, tail).await, format!("{}\n{}\n", lines[4], lines[5]));
    let stamped = node.logs(&writer, LogOptions { timestamps: true, ..Default::default() }).await;
    for line in stamped.lines() {
        let (time, _) = line.split_once(' ').expect("a timestamp, a space, the line");
        assert!(chrono::DateTime::parse_from_rfc3339(time).is_ok(), "{line:?} does not start with an RFC 3339 time");
    }

    let follow = LogOptions { follow: true, tail_lines: Some(1), ..Default::default() };
    let mut stream = node.runtime.logs(&writer, follow).await.unwrap();
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(String::from_utf8_lossy(&first), format!("{}\n", lines[5]));
    node.runtime
        .exec_sync(&writer, &["touch".to_string(), "/tmp/go".to_string()], Duration::from_secs(10))
        .await
        .unwrap();
    let mut rest = Vec::new();
    while let Some(chunk) = tokio::time::timeout(DEADLINE, stream.next()).await.expect("follow ends with the container")
    {
        rest.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(String::from_utf8_lossy(&rest), "after\n");

    let missing = node.runtime.logs("no-such-container", LogOptions::default()).await;
    assert!(matches!(missing, Err(RuntimeError::NotFound(_))));
    node.clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pulling_a_missing_image_fails_fast_with_dockers_message() {
    let node = TestNode::start("pull").await;
    let image = "nosuch.invalid/x:1";
    assert!(!node.runtime.image_present(image).await.unwrap());
    assert!(node.runtime.image_present(rk_kubelet::images::BUSYBOX_IMAGE).await.unwrap());
    let started = Instant::now();
    match node.runtime.pull_image(image).await {
        Err(RuntimeError::ImagePull(message)) => assert!(message.contains("nosuch.invalid"), "{message}"),
        other => panic!("expected an ImagePull error, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(10), "the pull took {:?}", started.elapsed());
    let version = node.runtime.version().await.unwrap().version;
    assert!(version.starts_with("docker://") && version.len() > "docker://".len(), "{version}");
    node.clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_network_is_recreated_for_a_new_subnet_only_while_unused() {
    let node = TestNode::start("network").await;
    let name = format!("{}-renumbered", node.network);
    let (first, second, third) = (node.lease.subnet(1), node.lease.subnet(2), node.lease.subnet(3));
    node.runtime.ensure_network(&name, &first, &node.lease.gateway(1)).await.unwrap();
    node.runtime.ensure_network(&name, &first, &node.lease.gateway(1)).await.unwrap();
    node.runtime.ensure_network(&name, &second, &node.lease.gateway(2)).await.unwrap();
    let inspect = node.runtime.client().inspect_network(&name, None).await.unwrap();
    let subnet = inspect.ipam.and_then(|ipam| ipam.config).and_then(|configs| configs[0].subnet.clone());
    assert_eq!(subnet.as_deref(), Some(second.as_str()));

    let mut pod = node.sandbox("user");
    pod.network = PodNetwork::Bridge(name.clone());
    node.runtime.run_sandbox(&pod).await.unwrap();
    let error = node.runtime.ensure_network(&name, &third, &node.lease.gateway(3)).await.unwrap_err().to_string();
    assert!(error.contains(&second) && error.contains(&third), "{error}");
    node.clean().await;
}
