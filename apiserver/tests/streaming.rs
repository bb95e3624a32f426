//! Logs and exec through the apiserver on a real etcd, forwarded to a kubelet
//! streaming server on 127.0.0.1 (in front of a scripted runtime) that a Node
//! object points at: pass-through, credentials and the errors a user meets.

mod common;

use common::object;
use futures::StreamExt;
use rk_apiserver::{KubeletCredential, ServerConfig};
use rk_kubelet::runtime::ContainerState::{Exited, Running};
use rk_kubelet::streaming::testing::{container, exec_requests, input, ExecTranscript, ScriptedRuntime};
use rk_proto::streaming::exec_request::Request as Input;
use rk_proto::streaming::pod_streaming_client::PodStreamingClient;
use rk_proto::streaming::*;
use rk_proto::v1::*;
use rk_proto::Resource;
use rk_test_api::TestApi;
use std::sync::Arc;
use tonic::transport::Channel;
use tonic::{Code, Status};

const TOKEN: &str = "kubelet-secret";

const POD: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  nodeName: n1
  containers:
  - {name: app, image: busybox}
  - {name: sidecar, image: busybox}
"#;

async fn apiserver(token: Option<&str>) -> (TestApi, PodStreamingClient<Channel>) {
    let kubelet_credential = token.map(|t| KubeletCredential::new(t).unwrap());
    let api = TestApi::start_with(ServerConfig { kubelet_credential, ..Default::default() }).await;
    let streaming = PodStreamingClient::connect(format!("http://{}", api.address)).await.unwrap();
    (api, streaming)
}

/// A kubelet streaming server for the pod `web` (app: a dead and a running
/// instance; sidecar: running), and the node `name` that points at it.
async fn kubelet(api: &TestApi, name: &str, pod_uid: &str) -> Arc<ScriptedRuntime> {
    let mut containers = vec![
        container("app-0", "default", "web", "app", 0, Exited),
        container("app-1", "default", "web", "app", 1, Running),
        container("sidecar-0", "default", "web", "sidecar", 0, Running),
    ];
    for c in &mut containers {
        c.pod_uid = pod_uid.to_string();
    }
    let runtime = Arc::new(
        ScriptedRuntime::new(containers)
            .with_log("app-0", "app crashed\n")
            .with_log("app-1", "app running\n")
            .with_log("sidecar-0", "sidecar here\n"),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(rk_kubelet::streaming::serve(listener, runtime.clone(), TOKEN.into(), std::future::pending()));
    register_node(api, name, &[("InternalIP", "127.0.0.1")], Some(port)).await;
    runtime
}

async fn register_node(api: &TestApi, name: &str, addresses: &[(&str, &str)], kubelet_port: Option<u16>) {
    let node = Node {
        metadata: Some(ObjectMeta { name: name.into(), ..Default::default() }),
        status: Some(NodeStatus {
            addresses: addresses
                .iter()
                .map(|(t, a)| NodeAddress { r#type: t.to_string(), address: a.to_string() })
                .collect(),
            daemon_endpoints: kubelet_port
                .map(|port| NodeDaemonEndpoints { kubelet_endpoint: Some(DaemonEndpoint { port: port.into() }) }),
            ..Default::default()
        }),
        ..Default::default()
    };
    api.client.create(node).await.unwrap();
}

/// The pod `name` bound to `node` ("" leaves it unscheduled); returns its uid.
async fn create_pod(api: &TestApi, name: &str, node: &str) -> String {
    let mut pod: Pod = object(POD);
    pod.metadata_mut().name = name.into();
    pod.spec.as_mut().unwrap().node_name = node.into();
    api.client.create(pod).await.unwrap().metadata().uid.clone()
}

fn log_request(pod: &str, container: &str) -> PodLogRequest {
    PodLogRequest { pod: pod.into(), container: container.into(), ..Default::default() }
}

async fn read_log(client: &PodStreamingClient<Channel>, request: PodLogRequest) -> Result<String, Status> {
    let mut stream = client.clone().logs(request).await?.into_inner();
    let mut log = Vec::new();
    while let Some(chunk) = stream.next().await {
        log.extend(chunk?.data);
    }
    Ok(String::from_utf8(log).unwrap())
}

fn start(pod: &str, container: &str, command: &[&str]) -> ExecStart {
    ExecStart {
        pod: pod.into(),
        container: container.into(),
        command: command.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

/// Runs a command that needs no input; returns what it printed and its exit code.
async fn exec(client: &PodStreamingClient<Channel>, first: ExecStart) -> Result<ExecTranscript, Status> {
    let (requests, _sender) = exec_requests(first);
    let mut responses = client.clone().exec(requests).await?.into_inner();
    let mut transcript = ExecTranscript::default();
    transcript.read_to_end(&mut responses).await?;
    Ok(transcript)
}

#[tokio::test]
async fn logs_and_exec_pass_through_to_the_kubelet_of_the_pods_node() {
    let (api, streaming) = apiserver(Some(TOKEN)).await;
    let uid = create_pod(&api, "web", "n1").await;
    let runtime = kubelet(&api, "n1", &uid).await;

    assert_eq!(read_log(&streaming, log_request("web", "")).await.unwrap(), "app running\n", "first container");
    assert_eq!(read_log(&streaming, log_request("web", "sidecar")).await.unwrap(), "sidecar here\n");
    let previous =
        PodLogRequest { previous: true, tail_lines: Some(10), timestamps: true, ..log_request("web", "app") };
    assert_eq!(read_log(&streaming, previous).await.unwrap(), "app crashed\n");
    let follow = PodLogRequest { follow: true, ..log_request("web", "app") };
    let mut followed = streaming.clone().logs(follow).await.unwrap().into_inner();
    assert_eq!(followed.next().await.unwrap().unwrap().data, b"app running\n");
    drop(followed);
    let calls = runtime.log_calls.lock().unwrap().clone();
    let seen: Vec<_> = calls.iter().map(|(id, o)| (id.as_str(), o.follow, o.tail_lines, o.timestamps)).collect();
    assert_eq!(
        seen,
        [
            ("app-1", false, None, false),
            ("sidecar-0", false, None, false),
            ("app-0", false, Some(10), true),
            ("app-1", true, None, false)
        ]
    );

    let echo = exec(&streaming, start("web", "sidecar", &["echo", "hello", "world"])).await.unwrap();
    assert_eq!((echo.stdout.as_str(), echo.exit_code), ("hello world\n", Some(0)));
    let failing = exec(&streaming, start("web", "", &["exit", "42"])).await.unwrap();
    assert_eq!((failing.stderr.as_str(), failing.exit_code), ("exiting 42\n", Some(42)));

    // Interactive: stdin and terminal resizes travel through the apiserver as they happen.
    let size = Some(TerminalSize { width: 80, height: 24 });
    let (requests, sender) = exec_requests(ExecStart { stdin: true, tty: true, size, ..start("web", "app", &["cat"]) });
    let mut responses = streaming.clone().exec(requests).await.unwrap().into_inner();
    let mut transcript = ExecTranscript::default();
    sender.send(input(Input::Stdin(b"typed\n".to_vec()))).await.unwrap();
    transcript.read_until(&mut responses, "typed\n").await.unwrap();
    sender.send(input(Input::Resize(TerminalSize { width: 120, height: 50 }))).await.unwrap();
    transcript.read_until(&mut responses, "resize 120x50\n").await.unwrap();
    sender.send(input(Input::StdinClosed(true))).await.unwrap();
    assert_eq!(transcript.read_to_end(&mut responses).await.unwrap(), 0);
    let exec_calls = runtime.exec_calls.lock().unwrap().clone();
    let (id, options) = exec_calls.last().unwrap();
    assert_eq!((id.as_str(), options.stdin, options.tty, options.size), ("app-1", true, true, Some((80, 24))));
}

#[tokio::test]
async fn a_wrong_or_missing_kubelet_credential_is_reported_to_the_client() {
    let (api, streaming) = apiserver(Some("not-the-kubelets-token")).await;
    let uid = create_pod(&api, "web", "n1").await;
    kubelet(&api, "n1", &uid).await;
    let refused = read_log(&streaming, log_request("web", "app")).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert!(
        refused.message().starts_with("the kubelet of node \"n1\" at 127.0.0.1:")
            && refused.message().contains("refused the apiserver's credential"),
        "{}",
        refused.message()
    );
    let refused = exec(&streaming, start("web", "app", &["echo", "hi"])).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);

    let (api, streaming) = apiserver(None).await;
    create_pod(&api, "web", "n1").await;
    let no_credential = read_log(&streaming, log_request("web", "app")).await.unwrap_err();
    assert_eq!(no_credential.code(), Code::FailedPrecondition);
    assert!(no_credential.message().contains("no kubelet credential (start it with --kubelet-token-file)"));
    let no_credential = exec(&streaming, start("web", "app", &["echo", "hi"])).await.unwrap_err();
    assert_eq!(no_credential.code(), Code::FailedPrecondition);
}

#[tokio::test]
async fn pods_that_cannot_be_reached_get_errors_that_say_why() {
    let (api, streaming) = apiserver(Some(TOKEN)).await;
    let error = |status: Status| (status.code(), status.message().to_string());
    let logs = |pod: &str, container: &str| read_log(&streaming, log_request(pod, container));

    let missing = logs("nope", "").await.unwrap_err();
    assert_eq!(error(missing), (Code::NotFound, "pods \"nope\" not found".into()));
    create_pod(&api, "pending", "").await;
    let unscheduled = logs("pending", "").await.unwrap_err();
    assert_eq!(error(unscheduled), (Code::FailedPrecondition, "pod \"pending\" is not scheduled yet".into()));
    let unscheduled = exec(&streaming, start("pending", "", &["echo"])).await.unwrap_err();
    assert_eq!(unscheduled.code(), Code::FailedPrecondition);

    create_pod(&api, "orphan", "gone").await;
    let no_node = logs("orphan", "").await.unwrap_err();
    assert_eq!(
        error(no_node),
        (Code::FailedPrecondition, "pod \"orphan\" is bound to node \"gone\", which does not exist".into())
    );

    create_pod(&api, "quiet", "no-kubelet").await;
    register_node(&api, "no-kubelet", &[("InternalIP", "127.0.0.1")], None).await;
    let no_endpoint = logs("quiet", "").await.unwrap_err();
    assert_eq!(no_endpoint.code(), Code::FailedPrecondition);
    assert!(no_endpoint.message().contains("node \"no-kubelet\" reports no kubelet endpoint"), "{no_endpoint:?}");

    // A port nothing listens on any more.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
    create_pod(&api, "down", "dead").await;
    register_node(&api, "dead", &[("InternalIP", "127.0.0.1")], Some(closed)).await;
    let unreachable = logs("down", "").await.unwrap_err();
    assert_eq!(unreachable.code(), Code::Unavailable);
    assert!(unreachable.message().starts_with("cannot reach the kubelet of node \"dead\""), "{unreachable:?}");

    let uid = create_pod(&api, "web", "n1").await;
    kubelet(&api, "n1", &uid).await;
    let unknown = logs("web", "db").await.unwrap_err();
    assert_eq!(
        error(unknown),
        (Code::InvalidArgument, "container \"db\" is not in pod \"web\"; its containers are: app, sidecar".into())
    );
    let unknown = exec(&streaming, start("web", "db", &["echo"])).await.unwrap_err();
    assert_eq!(unknown.code(), Code::InvalidArgument);
    let no_command = exec(&streaming, start("web", "app", &[])).await.unwrap_err();
    assert_eq!(no_command.code(), Code::InvalidArgument);
    let negative_tail =
        read_log(&streaming, PodLogRequest { tail_lines: Some(-5), ..log_request("web", "app") }).await.unwrap_err();
    assert_eq!(error(negative_tail), (Code::InvalidArgument, "tailLines must be 0 or more, got -5".into()));
}
