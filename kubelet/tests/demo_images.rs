//! The demo images (rk/redis, rk/guestbook, rk/visits), built on the shared
//! test dockerd and run together as pods find each other: by numeric
//! addresses in Service-style variables, or on the pod's localhost.

mod docker_support;

use std::time::Duration;

use docker_support::{container_ip, http, TestNode, DEADLINE};
use rk_kubelet::images::{GUESTBOOK_IMAGE, REDIS_IMAGE, VISITS_IMAGE};
use rk_kubelet::runtime::{ContainerConfig, ContainerRuntime, ContainerState, Mount, SandboxConfig};
use rk_testkit::eventually;

/// A pod: its settings and its sandbox's id and IP.
struct Pod {
    config: SandboxConfig,
    sandbox: String,
    ip: String,
}

async fn pod(node: &TestNode, name: &str) -> Pod {
    let config = node.sandbox(name);
    let sandbox = node.runtime.run_sandbox(&config).await.unwrap();
    let ip = container_ip(&node.runtime, &sandbox).await;
    Pod { config, sandbox, ip }
}

/// A container of `image` with its own entrypoint and command in `pod`.
fn container(node: &TestNode, pod: &Pod, name: &str, image: &str, env: &[(&str, &str)]) -> ContainerConfig {
    let mut config = node.shell(&pod.config, &pod.sandbox, name, "");
    (config.image, config.entrypoint, config.cmd) = (image.to_string(), None, None);
    config.env = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    config
}

/// `method path` on port 8080 once it answers with `status`; its body.
async fn expect(ip: &str, method: &str, path: &str, form: Option<&str>, status: u16) -> String {
    let what = format!("{method} {path} on {ip} to answer {status}");
    eventually(&what, DEADLINE, || async {
        http(ip, 8080, method, path, form).await.and_then(|(got, body)| (got == status).then_some(body))
    })
    .await
}

/// What `redis-cli` in the Redis container prints for `args` (plain words),
/// run by the image's shell as `rkctl exec` would.
async fn redis_cli(node: &TestNode, redis: &str, args: &[&str]) -> String {
    let command = ["sh".to_string(), "-c".to_string(), format!("redis-cli {}", args.join(" "))];
    let output = node.runtime.exec_sync(redis, &command, Duration::from_secs(10)).await.unwrap();
    let text = String::from_utf8_lossy(&output.output).into_owned();
    assert_eq!(output.exit_code, 0, "{command:?}: {text}");
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guestbook_entries_go_to_redis_and_survive_a_new_redis_on_the_same_data_directory() {
    let node = TestNode::start("guestbook").await;
    let data = tempfile::tempdir().unwrap();
    let db = pod(&node, "redis-master").await;
    let mut redis = container(&node, &db, "master", REDIS_IMAGE, &[]);
    let mount =
        Mount { host_path: data.path().display().to_string(), container_path: "/data".into(), read_only: false };
    redis.mounts = vec![mount];
    let first_redis = node.run(&redis).await;

    let frontend = pod(&node, "frontend-a").await;
    let env = [("REDIS_MASTER_SERVICE_HOST", db.ip.as_str()), ("REDIS_MASTER_SERVICE_PORT", "6379")];
    node.run(&container(&node, &frontend, "php-redis", GUESTBOOK_IMAGE, &env)).await;
    // The same program without the variables, on another port of the pod.
    node.run(&container(&node, &frontend, "lost", GUESTBOOK_IMAGE, &[("PORT", "8081")])).await;

    let added = expect(&frontend.ip, "POST", "/entries", Some("entry=%3Cb%3Ehello%3C%2Fb%3E+%26+bye"), 201).await;
    assert_eq!(added, "pod frontend-a added entry 1\n");
    assert_eq!(expect(&frontend.ip, "GET", "/add?entry=second", None, 201).await, "pod frontend-a added entry 2\n");
    assert_eq!(expect(&frontend.ip, "GET", "/entries", None, 200).await, "<b>hello</b> & bye\nsecond\n");
    let page = expect(&frontend.ip, "GET", "/", None, 200).await;
    assert!(page.contains("<li>&lt;b&gt;hello&lt;/b&gt; &amp; bye</li>") && page.contains("pod frontend-a"), "{page}");
    let (status, body) =
        eventually("the frontend without variables", DEADLINE, || http(&frontend.ip, 8081, "GET", "/entries", None))
            .await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("REDIS_MASTER_SERVICE_HOST is not set"), "{body}");
    // The image's shell, and redis-cli with its libraries, run too.
    assert_eq!(
        redis_cli(&node, &first_redis, &["lrange", "guestbook", "0", "-1"]).await,
        "<b>hello</b> & bye\nsecond\n"
    );

    // redis-server writes its append-only file on SIGTERM; a new one reads it.
    node.runtime.stop_container(&first_redis, Duration::from_secs(10)).await.unwrap();
    let stopped = node.wait_container(&first_redis, "Redis to stop", |c| c.state == ContainerState::Exited).await;
    assert_eq!(stopped.exit_code, 0, "redis-server on SIGTERM");
    let unreachable = expect(&frontend.ip, "GET", "/entries", None, 503).await;
    assert!(unreachable.contains(&format!("cannot connect to Redis at {}:6379", db.ip)), "{unreachable}");
    redis.attempt = 1;
    node.run(&redis).await;
    assert_eq!(expect(&frontend.ip, "GET", "/entries", None, 200).await, "<b>hello</b> & bye\nsecond\n");
    node.clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visits_are_counted_per_pod_in_the_database() {
    let node = TestNode::start("visits").await;
    let db = pod(&node, "db").await;
    node.run(&container(&node, &db, "redis", REDIS_IMAGE, &[])).await;
    let env = [("DB_SERVICE_SERVICE_HOST", db.ip.as_str()), ("DB_SERVICE_SERVICE_PORT", "6379")];
    let mut web = Vec::new();
    for name in ["web-a", "web-b"] {
        let pod = pod(&node, name).await;
        node.run(&container(&node, &pod, "web", VISITS_IMAGE, &env)).await;
        web.push(pod);
    }
    assert_eq!(expect(&web[0].ip, "GET", "/", None, 200).await, "pod web-a: visit 1\n");
    assert_eq!(expect(&web[0].ip, "GET", "/", None, 200).await, "pod web-a: visit 2\n");
    assert_eq!(expect(&web[1].ip, "GET", "/", None, 200).await, "pod web-b: visit 1\n");
    assert_eq!(expect(&web[1].ip, "GET", "/counts", None, 200).await, "web-a: 2\nweb-b: 1\n");
    assert_eq!(expect(&web[0].ip, "GET", "/healthz", None, 200).await, "ok\n");
    node.clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guestbook_reaches_the_redis_of_its_own_pod_on_localhost() {
    let node = TestNode::start("cached").await;
    let app = pod(&node, "cached-app").await;
    let mut cache = container(&node, &app, "cache", REDIS_IMAGE, &[]);
    cache.cmd = Some(["--appendonly", "no", "--save", ""].map(String::from).to_vec());
    node.run(&cache).await;
    node.run(&container(&node, &app, "app", GUESTBOOK_IMAGE, &[("REDIS_ADDRESS", "127.0.0.1:6379")])).await;
    assert_eq!(expect(&app.ip, "POST", "/entries", Some("entry=local"), 201).await, "pod cached-app added entry 1\n");
    assert_eq!(expect(&app.ip, "GET", "/entries", None, 200).await, "local\n");
    node.clean().await;
}
