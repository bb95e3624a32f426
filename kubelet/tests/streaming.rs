//! The kubelet's streaming endpoint over real gRPC on 127.0.0.1, in front of a
//! scripted runtime: authentication, container resolution, logs and exec.

use futures::StreamExt;
use rk_kubelet::runtime::ContainerState::{Exited, Running};
use rk_kubelet::streaming::testing::{container, exec_requests, input, ExecTranscript, ScriptedRuntime};
use rk_proto::streaming::exec_request::Request as Input;
use rk_proto::streaming::pod_streaming_client::PodStreamingClient;
use rk_proto::streaming::*;
use std::sync::Arc;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

const TOKEN: &str = "apiserver-secret";

/// A kubelet streaming server on a free port; it stops when the test ends.
async fn kubelet(runtime: ScriptedRuntime, token: &str) -> (PodStreamingClient<Channel>, Arc<ScriptedRuntime>) {
    let runtime = Arc::new(runtime);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(rk_kubelet::streaming::serve(listener, runtime.clone(), token.to_string(), std::future::pending()));
    let client = PodStreamingClient::connect(format!("http://{address}")).await.expect("kubelet reachable");
    (client, runtime)
}

fn runtime() -> ScriptedRuntime {
    ScriptedRuntime::new(vec![
        container("app-0", "default", "web", "app", 0, Exited),
        container("app-1", "default", "web", "app", 1, Running),
        container("db-0", "default", "web", "db", 0, Exited),
    ])
    .with_log("app-0", "first run\n")
    .with_log("app-1", "second run\nline two\n")
}

fn with_token<T>(message: T, token: Option<&str>) -> Request<T> {
    let mut request = Request::new(message);
    if let Some(token) = token {
        request.metadata_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    request
}

fn log_request(container: &str) -> PodLogRequest {
    PodLogRequest { namespace: "default".into(), pod: "web".into(), container: container.into(), ..Default::default() }
}

async fn read_log(client: &mut PodStreamingClient<Channel>, request: PodLogRequest) -> Result<String, Status> {
    let mut stream = client.logs(with_token(request, Some(TOKEN))).await?.into_inner();
    let mut log = Vec::new();
    while let Some(chunk) = stream.next().await {
        log.extend(chunk?.data);
    }
    Ok(String::from_utf8(log).unwrap())
}

#[tokio::test]
async fn calls_without_the_apiservers_token_are_refused() {
    let (mut client, _) = kubelet(runtime(), TOKEN).await;
    for token in [None, Some("guess"), Some("apiserver-secre"), Some("")] {
        let error = client.logs(with_token(log_request("app"), token)).await.unwrap_err();
        assert_eq!(error.code(), Code::Unauthenticated, "token {token:?}: {error:?}");
        let (requests, _keep) = exec_requests(start(&["echo", "hi"]));
        let error = client.exec(with_token(requests, token)).await.unwrap_err();
        assert_eq!(error.code(), Code::Unauthenticated, "token {token:?}: {error:?}");
    }
    assert_eq!(read_log(&mut client, log_request("app")).await.unwrap(), "second run\nline two\n");

    let (mut unconfigured, _) = kubelet(runtime(), "").await;
    for token in [None, Some("")] {
        let error = unconfigured.logs(with_token(log_request("app"), token)).await.unwrap_err();
        assert_eq!(error.code(), Code::Unauthenticated);
        assert!(error.message().contains("no streaming credential"), "{}", error.message());
    }
}

#[tokio::test]
async fn logs_come_from_the_newest_or_previous_instance_with_the_options_passed_through() {
    let (mut client, runtime) = kubelet(runtime(), TOKEN).await;
    let request = PodLogRequest { tail_lines: Some(1), timestamps: true, ..log_request("app") };
    assert_eq!(read_log(&mut client, request).await.unwrap(), "second run\nline two\n");
    let previous = PodLogRequest { previous: true, ..log_request("app") };
    assert_eq!(read_log(&mut client, previous).await.unwrap(), "first run\n");

    // A followed log stays open after what has been written so far.
    let follow = PodLogRequest { follow: true, ..log_request("app") };
    let mut stream = client.logs(with_token(follow, Some(TOKEN))).await.unwrap().into_inner();
    assert_eq!(stream.next().await.unwrap().unwrap().data, b"second run\n");
    assert_eq!(stream.next().await.unwrap().unwrap().data, b"line two\n");
    drop(stream);

    let calls = runtime.log_calls.lock().unwrap().clone();
    let seen: Vec<_> = calls.iter().map(|(id, o)| (id.as_str(), o.follow, o.tail_lines, o.timestamps)).collect();
    assert_eq!(seen, [("app-1", false, Some(1), true), ("app-0", false, None, false), ("app-1", true, None, false)]);

    let no_previous = read_log(&mut client, PodLogRequest { previous: true, ..log_request("db") }).await.unwrap_err();
    assert_eq!(no_previous.code(), Code::NotFound);
    assert_eq!(no_previous.message(), "previous terminated container \"db\" in pod \"web\" not found");
    let unknown = read_log(&mut client, log_request("cache")).await.unwrap_err();
    assert_eq!(
        (unknown.code(), unknown.message()),
        (Code::NotFound, "container \"cache\" in pod \"web\" not found on this node")
    );
    let negative =
        read_log(&mut client, PodLogRequest { tail_lines: Some(-1), ..log_request("app") }).await.unwrap_err();
    assert_eq!(negative.code(), Code::InvalidArgument);
}

fn start(command: &[&str]) -> ExecStart {
    ExecStart {
        namespace: "default".into(),
        pod: "web".into(),
        container: "app".into(),
        command: command.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

#[tokio::test]
async fn exec_bridges_stdin_resizes_output_and_the_exit_code() {
    let (mut client, runtime) = kubelet(runtime(), TOKEN).await;
    let first =
        ExecStart { stdin: true, tty: true, size: Some(TerminalSize { width: 80, height: 24 }), ..start(&["cat"]) };
    let (requests, sender) = exec_requests(first);
    let mut responses = client.exec(with_token(requests, Some(TOKEN))).await.unwrap().into_inner();
    let mut transcript = ExecTranscript::default();
    sender.send(input(Input::Stdin(b"hello\n".to_vec()))).await.unwrap();
    transcript.read_until(&mut responses, "hello\n").await.unwrap();
    sender.send(input(Input::Resize(TerminalSize { width: 100, height: 40 }))).await.unwrap();
    transcript.read_until(&mut responses, "resize 100x40\n").await.unwrap();
    sender.send(input(Input::StdinClosed(true))).await.unwrap();
    assert_eq!(transcript.read_to_end(&mut responses).await.unwrap(), 0);
    assert_eq!((transcript.stdout.as_str(), transcript.stderr.as_str()), ("hello\n", "resize 100x40\n"));

    let calls = runtime.exec_calls.lock().unwrap().clone();
    let (id, options) = &calls[0];
    assert_eq!((id.as_str(), options.stdin, options.tty, options.size), ("app-1", true, true, Some((80, 24))));
}

#[tokio::test]
async fn exec_reports_exit_codes_and_refuses_bad_calls() {
    let (mut client, _) = kubelet(runtime(), TOKEN).await;
    let (requests, _sender) = exec_requests(start(&["exit", "3"]));
    let mut responses = client.exec(with_token(requests, Some(TOKEN))).await.unwrap().into_inner();
    let mut transcript = ExecTranscript::default();
    assert_eq!(transcript.read_to_end(&mut responses).await.unwrap(), 3);
    assert_eq!(transcript.stderr, "exiting 3\n");

    let refused = |first: Input| {
        let mut client = client.clone();
        async move {
            let requests = futures::stream::iter([input(first)]).chain(futures::stream::pending());
            client.exec(with_token(requests, Some(TOKEN))).await.unwrap_err()
        }
    };
    let not_start = refused(Input::Stdin(b"too early".to_vec())).await;
    assert_eq!(
        (not_start.code(), not_start.message()),
        (Code::InvalidArgument, "the first exec request must be `start`")
    );
    assert_eq!(refused(Input::Start(start(&[]))).await.code(), Code::InvalidArgument);
    let exited = refused(Input::Start(ExecStart { container: "db".into(), ..start(&["echo"]) })).await;
    assert_eq!(exited.code(), Code::FailedPrecondition);
    assert!(exited.message().contains("container \"db\" in pod \"web\" is not running"), "{}", exited.message());
    let unknown = refused(Input::Start(ExecStart { pod: "nope".into(), ..start(&["echo"]) })).await;
    assert_eq!(unknown.code(), Code::NotFound);
}
