//! The PodStreaming service on the apiserver: checks the call against the
//! pod and its node, then forwards it to the node's kubelet and streams the
//! answers back.

use super::credential::KubeletCredential;
use super::kubelets::Kubelets;
use super::locate::{choose_container, kubelet_address};
use crate::metrics::Metrics;
use crate::registry::Registry;
use crate::ApiError;
use futures::stream::BoxStream;
use futures::{future, StreamExt};
use rk_proto::streaming::exec_request::Request as Input;
use rk_proto::streaming::pod_streaming_server::PodStreaming;
use rk_proto::streaming::*;
use rk_proto::v1::{Node, Pod};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tonic::{Code, Request, Response, Status, Streaming};

pub struct StreamingProxy {
    pods: Arc<Registry<Pod>>,
    nodes: Arc<Registry<Node>>,
    credential: Option<KubeletCredential>,
    kubelets: Kubelets,
    metrics: Arc<Metrics>,
}

/// A call's container and the kubelet that runs it.
struct Located {
    namespace: String,
    pod_uid: String,
    container: String,
    node: String,
    address: SocketAddr,
}

impl Located {
    /// The kubelet's failure, saying which kubelet when it is about reaching it.
    fn kubelet_error(&self, status: Status) -> Status {
        let (node, address) = (&self.node, self.address);
        match status.code() {
            Code::Unauthenticated => Status::unauthenticated(format!(
                "the kubelet of node \"{node}\" at {address} refused the apiserver's credential \
                 (--kubelet-token-file): {}",
                status.message()
            )),
            Code::Unavailable => Status::unavailable(format!(
                "cannot reach the kubelet of node \"{node}\" at {address}: {}",
                status.message()
            )),
            _ => status,
        }
    }
}

impl StreamingProxy {
    pub fn new(
        pods: Arc<Registry<Pod>>,
        nodes: Arc<Registry<Node>>,
        credential: Option<KubeletCredential>,
        metrics: Arc<Metrics>,
    ) -> StreamingProxy {
        StreamingProxy { pods, nodes, credential, kubelets: Kubelets::default(), metrics }
    }

    fn credential(&self) -> Result<&KubeletCredential, ApiError> {
        self.credential.as_ref().ok_or_else(|| {
            ApiError::FailedPrecondition(
                "this apiserver has no kubelet credential (start it with --kubelet-token-file), \
                 so it cannot reach kubelets for logs and exec"
                    .into(),
            )
        })
    }

    async fn locate(&self, namespace: &str, pod_name: &str, container: &str) -> Result<Located, ApiError> {
        let pod = self.pods.get(namespace, pod_name).await?;
        let meta = pod.metadata.clone().unwrap_or_default();
        let node = pod.spec.as_ref().map_or("", |spec| spec.node_name.as_str());
        if node.is_empty() {
            return Err(ApiError::FailedPrecondition(format!("pod \"{pod_name}\" is not scheduled yet")));
        }
        let container = choose_container(&pod, container)?;
        let node_object = match self.nodes.get("", node).await {
            Err(ApiError::NotFound { .. }) => {
                return Err(ApiError::FailedPrecondition(format!(
                    "pod \"{pod_name}\" is bound to node \"{node}\", which does not exist"
                )))
            }
            other => other?,
        };
        Ok(Located {
            namespace: meta.namespace,
            pod_uid: meta.uid,
            container,
            node: node.to_string(),
            address: kubelet_address(&node_object)?,
        })
    }

    /// Runs the part of a call before streaming starts, recording its latency and outcome.
    async fn open<T>(&self, verb: &'static str, work: impl Future<Output = Result<T, Status>>) -> Result<T, Status> {
        let started = Instant::now();
        let result = work.await;
        let code = result.as_ref().err().map_or(Code::Ok, Status::code);
        self.metrics.observe("pods", verb, code, started.elapsed());
        result
    }
}

#[tonic::async_trait]
impl PodStreaming for StreamingProxy {
    type LogsStream = BoxStream<'static, Result<PodLogChunk, Status>>;
    type ExecStream = BoxStream<'static, Result<ExecResponse, Status>>;

    async fn logs(&self, request: Request<PodLogRequest>) -> Result<Response<Self::LogsStream>, Status> {
        let mut request = request.into_inner();
        self.open("logs", async {
            if let Some(n) = request.tail_lines.filter(|n| *n < 0) {
                return Err(ApiError::BadRequest(format!("tailLines must be 0 or more, got {n}")).into());
            }
            let credential = self.credential()?;
            let located = self.locate(&request.namespace, &request.pod, &request.container).await?;
            request.namespace = located.namespace.clone();
            request.container = located.container.clone();
            request.pod_uid = located.pod_uid.clone();
            let mut kubelet = self.kubelets.client(located.address);
            let log = kubelet.logs(credential.authorize(request)).await.map_err(|s| located.kubelet_error(s))?;
            let log = log.into_inner().map(move |chunk| chunk.map_err(|s| located.kubelet_error(s)));
            Ok(Response::new(log.boxed()))
        })
        .await
    }

    async fn exec(&self, request: Request<Streaming<ExecRequest>>) -> Result<Response<Self::ExecStream>, Status> {
        let mut requests = request.into_inner();
        self.open("exec", async {
            let mut start = read_exec_start(&mut requests).await?;
            let credential = self.credential()?;
            let located = self.locate(&start.namespace, &start.pod, &start.container).await?;
            start.namespace = located.namespace.clone();
            start.container = located.container.clone();
            start.pod_uid = located.pod_uid.clone();
            // The caller's further requests go on to the kubelet until the caller ends or fails.
            let rest =
                requests.take_while(|request| future::ready(request.is_ok())).filter_map(|r| future::ready(r.ok()));
            let outbound =
                futures::stream::once(future::ready(ExecRequest { request: Some(Input::Start(start)) })).chain(rest);
            let mut kubelet = self.kubelets.client(located.address);
            let responses = kubelet.exec(credential.authorize(outbound)).await.map_err(|s| located.kubelet_error(s))?;
            let responses = responses.into_inner().map(move |response| response.map_err(|s| located.kubelet_error(s)));
            Ok(Response::new(responses.boxed()))
        })
        .await
    }
}
