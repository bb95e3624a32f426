//! rk's own images, built on the shared test dockerd and run for real.

mod docker_support;

use std::time::{Duration, Instant};

use docker_support::{container_ip, http, TestNode, DEADLINE};
use rk_kubelet::images::{ensure_project_images, ImageBuildError, HELLO_IMAGE, PROJECT_IMAGES};
use rk_kubelet::runtime::{ContainerRuntime, ContainerState, LogOptions};
use rk_testkit::eventually;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_are_built_once_and_hello_answers_with_its_hostname_and_visit_count() {
    let node = TestNode::start("hello").await;
    let docker = node.runtime.client();
    let mut ids = Vec::new();
    for image in PROJECT_IMAGES {
        ids.push(docker.inspect_image(image).await.unwrap_or_else(|e| panic!("{image} was not built: {e}")).id);
    }
    ensure_project_images(docker, &rk_testkit::static_images_dir()).await.unwrap();
    for (image, id) in PROJECT_IMAGES.into_iter().zip(ids) {
        assert_eq!(docker.inspect_image(image).await.unwrap().id, id, "{image} was rebuilt though nothing changed");
    }

    let pod = node.sandbox("hello-pod");
    let sandbox = node.runtime.run_sandbox(&pod).await.unwrap();
    let mut hello = node.shell(&pod, &sandbox, "hello", "");
    (hello.image, hello.entrypoint, hello.cmd) = (HELLO_IMAGE.to_string(), None, None);
    let hello = node.run(&hello).await;
    let ip = container_ip(&node.runtime, &sandbox).await;

    let first = eventually("rk-hello to answer", DEADLINE, || get(&ip, "/")).await;
    assert_eq!(first, "Hello from hello-pod! Visit number 1.\n");
    assert_eq!(get(&ip, "/healthz").await.as_deref(), Some("ok\n"));
    assert_eq!(get(&ip, "/again").await.as_deref(), Some("Hello from hello-pod! Visit number 2.\n"));
    // Docker copies the output into its log asynchronously: wait for all three lines.
    let requests = ["GET / from", "GET /healthz from", "GET /again from"];
    eventually("a log line per request", DEADLINE, || async {
        let log = node.logs(&hello, LogOptions::default()).await;
        requests.iter().all(|request| log.contains(request)).then_some(())
    })
    .await;

    // rk-hello and rk-pause exit 0 on SIGTERM, long before the grace ends.
    for (id, what) in [(&hello, "rk-hello"), (&sandbox, "rk-pause")] {
        let started = Instant::now();
        node.runtime.stop_container(id, Duration::from_secs(30)).await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(10), "{what} took {:?} to stop", started.elapsed());
        let stopped = node.wait_container(id, "the container to exit", |c| c.state == ContainerState::Exited).await;
        assert_eq!(stopped.exit_code, 0, "{what} on SIGTERM: {stopped:?}");
    }
    node.clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busybox_runs_shell_scripts_with_its_applets_users_and_tmp() {
    let node = TestNode::start("busybox").await;
    let pod = node.sandbox("shell-pod");
    let sandbox = node.runtime.run_sandbox(&pod).await.unwrap();
    let script = "echo $((6 * 7)); id -un; touch /tmp/x && echo tmp-ok; ls /bin/nc /bin/sed";
    let shell = node.run(&node.shell(&pod, &sandbox, "shell", script)).await;
    let done = node.wait_container(&shell, "the script to end", |c| c.state == ContainerState::Exited).await;
    let output = node.logs(&shell, LogOptions::default()).await;
    assert_eq!(done.exit_code, 0, "{output}");
    assert_eq!(output, "42\nroot\ntmp-ok\n/bin/nc\n/bin/sed\n");
    node.clean().await;
}

#[tokio::test]
async fn a_missing_program_names_the_file_and_the_fix() {
    let docker = rk_testkit::shared_dockerd();
    let runtime = rk_kubelet::runtime::docker::DockerRuntime::connect(docker.host(), "rk-test-missing").await.unwrap();
    let empty = tempfile::tempdir().unwrap();
    let error = runtime.ensure_project_images(empty.path()).await.unwrap_err();
    assert!(matches!(error, ImageBuildError::MissingFile { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("rk-pause") && message.contains("scripts/build-images"), "{message}");
}

/// The body of `GET path` from rk-hello at `ip`, or `None` while it does not answer.
async fn get(ip: &str, path: &str) -> Option<String> {
    let (status, body) = http(ip, 8080, "GET", path, None).await?;
    assert_eq!(status, 200, "{body}");
    Some(body)
}
