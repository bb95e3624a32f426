//! One probe attempt against real local listeners (and a scripted exec).

use super::run::{run_probe, Outcome};
use super::spec::ProbeSpec;
use super::testing::{closed_port, ExecRuntime, HttpServer};
use rk_proto::v1::{Container, ContainerPort, ExecAction, HttpGetAction, HttpHeader, Probe, TcpSocketAction};
use rk_proto::IntOrString;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

fn container() -> Container {
    Container {
        name: "app".into(),
        ports: vec![ContainerPort { name: "web".into(), container_port: 1, ..Default::default() }],
        ..Default::default()
    }
}

fn http_probe(port: IntOrString, path: &str) -> Probe {
    Probe {
        http_get: Some(HttpGetAction { port: Some(port), path: path.into(), ..Default::default() }),
        ..Default::default()
    }
}

fn tcp_probe(port: u16) -> Probe {
    Probe {
        tcp_socket: Some(TcpSocketAction { port: Some(IntOrString::int(port as i32)), host: String::new() }),
        ..Default::default()
    }
}

async fn outcome(probe: &Probe, container: &Container) -> Outcome {
    let spec = ProbeSpec::new(probe, container, "127.0.0.1");
    run_probe(&ExecRuntime::default(), "c1", &spec).await
}

fn failure(outcome: Outcome) -> String {
    match outcome {
        Outcome::Failure(message) => message,
        Outcome::Success => panic!("expected the probe to fail"),
    }
}

#[tokio::test]
async fn http_status_decides_and_headers_and_path_are_sent() {
    let server = HttpServer::start(200).await;
    let mut probe = http_probe(IntOrString::int(server.port as i32), "/healthz");
    probe.http_get.as_mut().unwrap().http_headers = vec![HttpHeader { name: "X-Check".into(), value: "deep".into() }];
    assert_eq!(outcome(&probe, &container()).await, Outcome::Success);
    let request = server.requests.lock().unwrap()[0].clone();
    assert!(request.starts_with("GET /healthz HTTP/1.1\r\n"), "{request}");
    assert!(request.contains("X-Check: deep\r\n"), "{request}");
    assert!(request.contains(&format!("Host: 127.0.0.1:{}\r\n", server.port)), "{request}");

    server.set_status(302);
    assert_eq!(outcome(&probe, &container()).await, Outcome::Success, "redirects count as healthy");
    server.set_status(500);
    assert_eq!(failure(outcome(&probe, &container()).await), "HTTP probe failed with statuscode: 500");
    server.set_status(404);
    assert_eq!(failure(outcome(&probe, &container()).await), "HTTP probe failed with statuscode: 404");
}

#[tokio::test]
async fn http_named_port_is_resolved_from_the_container() {
    let server = HttpServer::start(204).await;
    let mut named = container();
    named.ports[0].container_port = server.port as i32;
    assert_eq!(outcome(&http_probe(IntOrString::string("web"), "/"), &named).await, Outcome::Success);
    let unknown = failure(outcome(&http_probe(IntOrString::string("admin"), "/"), &named).await);
    assert!(unknown.contains("\"admin\"") && unknown.contains("web"), "{unknown}");
}

#[tokio::test]
async fn http_to_a_closed_port_fails_with_the_url_and_the_reason() {
    let port = closed_port().await;
    let message = failure(outcome(&http_probe(IntOrString::int(port as i32), "/ready"), &container()).await);
    assert!(message.starts_with(&format!("Get \"http://127.0.0.1:{port}/ready\": ")), "{message}");
    assert!(message.to_lowercase().contains("refused"), "{message}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let probe = http_probe(IntOrString::int(port as i32), "/");
    let started = Instant::now();
    assert_eq!(failure(outcome(&probe, &container()).await), "probe timed out after 1s");
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(1) && took < Duration::from_secs(5), "took {took:?}");
    drop(silent);
}

#[tokio::test]
async fn tcp_connects_or_fails() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let open = listener.local_addr().unwrap().port();
    assert_eq!(outcome(&tcp_probe(open), &container()).await, Outcome::Success);
    let closed = closed_port().await;
    let message = failure(outcome(&tcp_probe(closed), &container()).await);
    assert!(message.starts_with(&format!("dial tcp 127.0.0.1:{closed}: ")), "{message}");
}

#[tokio::test]
async fn exec_succeeds_on_exit_zero_and_reports_output_otherwise() {
    let runtime = ExecRuntime::default();
    let probe =
        Probe { exec: Some(ExecAction { command: vec!["cat".into(), "/tmp/healthy".into()] }), ..Default::default() };
    let spec = ProbeSpec::new(&probe, &container(), "127.0.0.1");
    assert_eq!(run_probe(&runtime, "c1", &spec).await, Outcome::Success);
    runtime.set_exit_code("c1", 1);
    assert_eq!(
        failure(run_probe(&runtime, "c1", &spec).await),
        "command [\"cat\", \"/tmp/healthy\"] exited with code 1"
    );
    *runtime.output.lock().unwrap() = b"cat: /tmp/healthy: No such file or directory\n".to_vec();
    assert_eq!(failure(run_probe(&runtime, "c1", &spec).await), "cat: /tmp/healthy: No such file or directory");
}

#[tokio::test]
async fn a_probe_that_cannot_run_fails_every_attempt_with_its_error() {
    assert!(failure(outcome(&Probe::default(), &container()).await).contains("no handler"));
}
