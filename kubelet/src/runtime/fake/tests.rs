use super::*;

fn sandbox(pod: &str, network: &str) -> SandboxConfig {
    SandboxConfig {
        pod_uid: format!("uid-{pod}"),
        namespace: "default".into(),
        pod_name: pod.into(),
        hostname: pod.into(),
        network: PodNetwork::Bridge(network.into()),
        port_mappings: Vec::new(),
        image: "rk/pause:3.9".into(),
        attempt: 0,
    }
}

fn container(sandbox_id: &str, pod: &str, name: &str, image: &str) -> ContainerConfig {
    ContainerConfig {
        pod_uid: format!("uid-{pod}"),
        namespace: "default".into(),
        pod_name: pod.into(),
        sandbox_id: sandbox_id.into(),
        name: name.into(),
        attempt: 0,
        image: image.into(),
        entrypoint: None,
        cmd: None,
        working_dir: None,
        env: Vec::new(),
        mounts: Vec::new(),
        memory_limit_bytes: None,
        nano_cpus: None,
        privileged: false,
        stdin: false,
        tty: false,
        labels: BTreeMap::new(),
        termination_grace_seconds: 30,
    }
}

async fn info(runtime: &FakeRuntime, id: &str) -> ContainerInfo {
    let all = runtime.list_containers().await.unwrap();
    all.into_iter().find(|c| c.id == id).unwrap_or_else(|| panic!("{id} is not listed"))
}

/// A running pod `pod` with one app container `app`; returns (sandbox, app) ids.
async fn running_pod(runtime: &FakeRuntime, pod: &str) -> (String, String) {
    let sandbox_id = runtime.run_sandbox(&sandbox(pod, "pods")).await.unwrap();
    let id = runtime.create_container(&container(&sandbox_id, pod, "app", "busybox")).await.unwrap();
    runtime.start_container(&id).await.unwrap();
    (sandbox_id, id)
}

#[tokio::test]
async fn containers_go_created_running_exited_and_away() {
    let runtime = FakeRuntime::new();
    let sandbox_id = runtime.run_sandbox(&sandbox("web", "pods")).await.unwrap();
    let pause = info(&runtime, &sandbox_id).await;
    assert!(pause.is_sandbox() && pause.state == ContainerState::Running && !pause.started_at.is_empty());

    let id = runtime.create_container(&container(&sandbox_id, "web", "app", "busybox")).await.unwrap();
    let created = info(&runtime, &id).await;
    assert_eq!((created.state, created.container_name.as_deref()), (ContainerState::Created, Some("app")));
    assert_eq!(created.started_at, "");
    assert_eq!(created.labels[labels::TERMINATION_GRACE], "30");

    runtime.start_container(&id).await.unwrap();
    let running = info(&runtime, &id).await;
    assert_eq!(running.state, ContainerState::Running);
    assert!(rk_proto::time::parse(&running.started_at).is_some(), "{}", running.started_at);

    runtime.stop_container(&id, Duration::from_secs(30)).await.unwrap();
    let exited = info(&runtime, &id).await;
    assert_eq!((exited.state, exited.exit_code, exited.reason.as_str()), (ContainerState::Exited, 0, "Completed"));
    assert!(!exited.finished_at.is_empty());

    runtime.remove_container(&id).await.unwrap();
    assert_eq!(runtime.list_containers().await.unwrap().len(), 1, "only the sandbox is left");
    assert!(matches!(runtime.remove_container(&id).await, Err(RuntimeError::NotFound(_))));
    assert!(matches!(runtime.start_container(&id).await, Err(RuntimeError::NotFound(_))));
}

#[tokio::test(start_paused = true)]
async fn a_container_that_ignores_sigterm_is_killed_after_the_grace_period() {
    let runtime = FakeRuntime::new();
    runtime.ignore_sigterm("web", "app");
    let (_, id) = running_pod(&runtime, "web").await;
    let started = tokio::time::Instant::now();
    runtime.stop_container(&id, Duration::from_secs(30)).await.unwrap();
    assert_eq!(started.elapsed(), Duration::from_secs(30));
    let killed = info(&runtime, &id).await;
    assert_eq!((killed.state, killed.exit_code, killed.reason.as_str()), (ContainerState::Exited, 137, "Error"));
}

#[tokio::test]
async fn kill_makes_a_container_exit_with_the_code_given() {
    let runtime = FakeRuntime::new();
    let (_, id) = running_pod(&runtime, "web").await;
    runtime.kill(&id, 2).unwrap();
    let dead = info(&runtime, &id).await;
    assert_eq!((dead.state, dead.exit_code, dead.reason.as_str()), (ContainerState::Exited, 2, "Error"));
    assert_eq!(runtime.newest("web", Some("app")).unwrap().id, id);
    assert!(matches!(runtime.kill("nope", 1), Err(RuntimeError::NotFound(_))));
}

#[tokio::test]
async fn every_image_is_present_except_the_ones_that_fail_to_pull() {
    let runtime = FakeRuntime::new();
    runtime.fail_pulls_of("ghost:1", "manifest for ghost:1 not found");
    assert!(runtime.image_present("busybox").await.unwrap());
    runtime.pull_image("busybox").await.unwrap();
    assert!(!runtime.image_present("ghost:1").await.unwrap());
    match runtime.pull_image("ghost:1").await {
        Err(RuntimeError::ImagePull(message)) => assert_eq!(message, "manifest for ghost:1 not found"),
        other => panic!("{other:?}"),
    }
    let sandbox_id = runtime.run_sandbox(&sandbox("web", "pods")).await.unwrap();
    let refused = runtime.create_container(&container(&sandbox_id, "web", "app", "ghost:1")).await.unwrap_err();
    assert_eq!(refused.to_string(), "No such image: ghost:1");
}

#[tokio::test]
async fn a_container_joins_only_a_running_sandbox() {
    let runtime = FakeRuntime::new();
    let missing = runtime.create_container(&container("nope", "web", "app", "busybox")).await.unwrap_err();
    assert!(matches!(missing, RuntimeError::NotFound(id) if id == "nope"));
    let sandbox_id = runtime.run_sandbox(&sandbox("web", "pods")).await.unwrap();
    runtime.kill(&sandbox_id, 137).unwrap();
    let refused = runtime.create_container(&container(&sandbox_id, "web", "app", "busybox")).await.unwrap_err();
    assert!(refused.to_string().contains("not running"), "{refused}");
}

#[tokio::test]
async fn sandboxes_get_distinct_addresses_of_their_network() {
    let runtime = FakeRuntime::new();
    // A /29: .0 is the network, .1 the gateway, .7 broadcast, so five pods fit.
    runtime.ensure_network("pods", "10.244.3.0/29", "10.244.3.1").await.unwrap();
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(runtime.run_sandbox(&sandbox(&format!("p{i}"), "pods")).await.unwrap());
    }
    let mut ips = Vec::new();
    for id in &ids {
        ips.push(info(&runtime, id).await.ip.unwrap());
    }
    assert_eq!(ips, ["10.244.3.2", "10.244.3.3", "10.244.3.4", "10.244.3.5", "10.244.3.6"]);
    let full = runtime.run_sandbox(&sandbox("p5", "pods")).await.unwrap_err();
    assert_eq!(full.to_string(), "no free IP address left in network pods");

    runtime.remove_container(&ids[1]).await.unwrap();
    let reused = runtime.run_sandbox(&sandbox("p6", "pods")).await.unwrap();
    assert_eq!(info(&runtime, &reused).await.ip.as_deref(), Some("10.244.3.3"), "a freed address is reused");

    let elsewhere = runtime.run_sandbox(&sandbox("p7", "unknown")).await.unwrap();
    let other = runtime.run_sandbox(&sandbox("p8", "unknown")).await.unwrap();
    let (a, b) = (info(&runtime, &elsewhere).await.ip.unwrap(), info(&runtime, &other).await.ip.unwrap());
    assert!(a.starts_with("10.") && b.starts_with("10.") && a != b, "{a} {b}");
    let host = SandboxConfig { network: PodNetwork::Host, ..sandbox("h", "pods") };
    let host_id = runtime.run_sandbox(&host).await.unwrap();
    assert_eq!(info(&runtime, &host_id).await.ip, None);
}

#[tokio::test]
async fn a_bad_subnet_is_refused() {
    let runtime = FakeRuntime::new();
    for (subnet, gateway) in
        [("10.244.3.0", "10.244.3.1"), ("10.244.3.0/31", "10.244.3.1"), ("10.244.3.0/24", "10.244.4.1")]
    {
        let err = runtime.ensure_network("pods", subnet, gateway).await.unwrap_err().to_string();
        assert!(err.contains(subnet) && err.contains("is not an IPv4 subnet"), "{err}");
    }
}

#[tokio::test]
async fn exec_results_are_scripted_and_the_last_one_repeats() {
    let runtime = FakeRuntime::new();
    let (_, id) = running_pod(&runtime, "web").await;
    let command = ["cat".to_string(), "/tmp/healthy".to_string()];
    let ok = runtime.exec_sync(&id, &command, Duration::from_secs(1)).await.unwrap();
    assert_eq!((ok.exit_code, ok.output.len()), (0, 0), "unscripted commands succeed silently");
    let failure = ExecOutput { exit_code: 1, output: b"no such file".to_vec() };
    runtime.exec_results("web", "app", [failure, ExecOutput { exit_code: 0, output: b"ok".to_vec() }]);
    let codes: Vec<i64> = futures::future::join_all(
        (0..3).map(|_| async { runtime.exec_sync(&id, &command, Duration::from_secs(1)).await.unwrap().exit_code }),
    )
    .await;
    assert_eq!(codes, [1, 0, 0]);
    runtime.kill(&id, 0).unwrap();
    let refused = runtime.exec_sync(&id, &command, Duration::from_secs(1)).await.unwrap_err();
    assert!(refused.to_string().contains("is not running"), "{refused}");
}

#[tokio::test]
async fn interactive_exec_echoes_stdin_after_the_scripted_output() {
    let runtime = FakeRuntime::new();
    let (_, id) = running_pod(&runtime, "web").await;
    runtime.exec_results("web", "app", [ExecOutput { exit_code: 3, output: b"hello\n".to_vec() }]);
    let options = ExecOptions { command: vec!["sh".into()], stdin: true, tty: false, size: None };
    let session = runtime.exec(&id, options).await.unwrap();
    let stdin = session.stdin.unwrap();
    stdin.send(Bytes::from_static(b"typed\n")).await.unwrap();
    drop(stdin);
    let output: Vec<Bytes> = session
        .output
        .map(|chunk| match chunk.unwrap() {
            ExecChunk::Stdout(bytes) => bytes,
            ExecChunk::Stderr(bytes) => panic!("stderr {bytes:?}"),
        })
        .collect()
        .await;
    assert_eq!(output, [Bytes::from_static(b"hello\n"), Bytes::from_static(b"typed\n")]);
    assert_eq!(session.exit_code.await.unwrap(), 3);
}

#[tokio::test]
async fn logs_are_the_configured_bytes_with_tail() {
    let runtime = FakeRuntime::new();
    let (_, id) = running_pod(&runtime, "web").await;
    runtime.set_logs("web", "app", "one\ntwo\nthree\n");
    let read = |tail_lines| {
        let runtime = &runtime;
        let id = id.clone();
        async move {
            let chunks = runtime.logs(&id, LogOptions { tail_lines, ..Default::default() }).await.unwrap();
            let chunks: Vec<_> = chunks.map(Result::unwrap).collect().await;
            String::from_utf8(chunks.concat()).unwrap()
        }
    };
    assert_eq!(read(None).await, "one\ntwo\nthree\n");
    assert_eq!(read(Some(2)).await, "two\nthree\n");
    assert_eq!(read(Some(5)).await, "one\ntwo\nthree\n");
    assert_eq!(read(Some(0)).await, "");
    assert_eq!(tail(&Bytes::from_static(b"a\nb"), 1), Bytes::from_static(b"b"), "an unfinished last line");
}

#[tokio::test]
async fn a_runtime_that_is_down_fails_every_call() {
    let runtime = FakeRuntime::new();
    assert_eq!(runtime.version().await.unwrap().version, "fake://1.0.0");
    runtime.set_down(Some("Cannot connect to the Docker daemon"));
    assert_eq!(runtime.version().await.unwrap_err().to_string(), "Cannot connect to the Docker daemon");
    assert!(runtime.list_containers().await.is_err());
    runtime.set_down(None);
    assert!(runtime.version().await.is_ok());
}

#[tokio::test]
async fn ids_differ_between_runtimes() {
    let (a, b) = (FakeRuntime::new(), FakeRuntime::new());
    let (first, second) = (running_pod(&a, "web").await.0, running_pod(&b, "web").await.0);
    assert_ne!(first, second);
    assert_eq!(first.len(), 64);
}
