//! The PodStreaming service on the kubelet: finds the container in the
//! runtime and streams its logs or runs the command in it.

use super::exec::{self, ExecStream};
use super::resolve::{resolve, Target};
use crate::runtime::{ContainerInfo, ContainerRuntime, ContainerState, ExecOptions, LogOptions, RuntimeError};
use futures::stream::BoxStream;
use futures::StreamExt;
use rk_proto::streaming::pod_streaming_server::PodStreaming;
use rk_proto::streaming::{read_exec_start, ExecRequest, PodLogChunk, PodLogRequest};
use std::sync::Arc;
use tonic::{Request, Response, Status, Streaming};

pub struct KubeletStreaming {
    runtime: Arc<dyn ContainerRuntime>,
}

impl KubeletStreaming {
    pub fn new(runtime: Arc<dyn ContainerRuntime>) -> KubeletStreaming {
        KubeletStreaming { runtime }
    }

    async fn find(&self, target: Target<'_>, previous: bool) -> Result<ContainerInfo, Status> {
        let containers = self.runtime.list_containers().await.map_err(runtime_status)?;
        resolve(&containers, target, previous).cloned()
    }
}

#[tonic::async_trait]
impl PodStreaming for KubeletStreaming {
    type LogsStream = BoxStream<'static, Result<PodLogChunk, Status>>;
    type ExecStream = ExecStream;

    async fn logs(&self, request: Request<PodLogRequest>) -> Result<Response<Self::LogsStream>, Status> {
        let r = request.into_inner();
        let tail_lines = r
            .tail_lines
            .map(|n| {
                u64::try_from(n).map_err(|_| Status::invalid_argument(format!("tailLines must be 0 or more, got {n}")))
            })
            .transpose()?;
        let target = Target { namespace: &r.namespace, pod: &r.pod, pod_uid: &r.pod_uid, container: &r.container };
        let container = self.find(target, r.previous).await?;
        let options = LogOptions { follow: r.follow, tail_lines, timestamps: r.timestamps };
        let log = self.runtime.logs(&container.id, options).await.map_err(runtime_status)?;
        Ok(Response::new(
            log.map(|chunk| chunk.map(|data| PodLogChunk { data: data.to_vec() }).map_err(runtime_status)).boxed(),
        ))
    }

    async fn exec(&self, request: Request<Streaming<ExecRequest>>) -> Result<Response<Self::ExecStream>, Status> {
        let mut requests = request.into_inner();
        let start = read_exec_start(&mut requests).await?;
        let target = Target {
            namespace: &start.namespace,
            pod: &start.pod,
            pod_uid: &start.pod_uid,
            container: &start.container,
        };
        let container = self.find(target, false).await?;
        if container.state != ContainerState::Running {
            return Err(Status::failed_precondition(format!(
                "container \"{}\" in pod \"{}\" is not running (it is {:?})",
                start.container, start.pod, container.state
            )));
        }
        let options = ExecOptions {
            command: start.command,
            stdin: start.stdin,
            tty: start.tty,
            size: start.size.as_ref().map(exec::terminal_size),
        };
        let session = self.runtime.exec(&container.id, options).await.map_err(runtime_status)?;
        Ok(Response::new(exec::bridge(session, requests)))
    }
}

/// Maps the runtime's failures to gRPC statuses.
pub fn runtime_status(error: RuntimeError) -> Status {
    match error {
        RuntimeError::NotFound(_) => Status::not_found(error.to_string()),
        other => Status::internal(format!("container runtime: {other}")),
    }
}
