//! [`ContainerRuntime`] on a real dockerd, through bollard.
//!
//! Every container carries rk's labels (see `labels.rs`) with this node's
//! name, so listing by label finds exactly this kubelet's containers, and a
//! restarted kubelet finds them again.

mod containers;
mod errors;
mod exec;
mod hairpin;
mod images_pull;
mod list;
mod logs;
mod network;

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use bollard::{Docker, API_DEFAULT_VERSION};
use futures::stream::BoxStream;

use super::{
    ContainerConfig, ContainerInfo, ContainerRuntime, ExecOptions, ExecOutput, ExecSession, LogOptions, RuntimeError,
    RuntimeResult, RuntimeVersion, SandboxConfig,
};
use crate::images::ImageBuildError;
use errors::docker_error;

/// Seconds bollard waits for an answer's head (streams are not bounded by it).
const REQUEST_TIMEOUT_SECS: u64 = 120;

/// The Docker runtime of one node.
pub struct DockerRuntime {
    docker: Docker,
    node_name: String,
    listing: list::ListCache,
    /// Whether the pod network masquerades what pods send off the node.
    pod_masquerade: bool,
}

impl DockerRuntime {
    /// Connects to `docker_host` (`unix:///path/docker.sock` or `tcp://host:port`)
    /// and agrees on an API version with it. Containers are labelled with `node_name`.
    pub async fn connect(docker_host: &str, node_name: &str) -> RuntimeResult<DockerRuntime> {
        let docker = if let Some(path) = docker_host.strip_prefix("unix://") {
            Docker::connect_with_unix(path, REQUEST_TIMEOUT_SECS, API_DEFAULT_VERSION)
        } else if docker_host.starts_with("tcp://") {
            Docker::connect_with_http(docker_host, REQUEST_TIMEOUT_SECS, API_DEFAULT_VERSION)
        } else {
            return Err(RuntimeError::Other(format!(
                "docker host {docker_host:?} is not supported: use unix:///path/to/docker.sock or tcp://host:port"
            )));
        }
        .map_err(|e| RuntimeError::Other(format!("connecting to docker at {docker_host}: {e}")))?;
        let docker = docker
            .negotiate_version()
            .await
            .map_err(|e| RuntimeError::Other(format!("docker at {docker_host} does not answer: {e}")))?;
        Ok(DockerRuntime {
            docker,
            node_name: node_name.to_string(),
            listing: list::ListCache::default(),
            pod_masquerade: true,
        })
    }

    /// Off for host-gw pod routing: pods on other nodes must see pod IPs, not node addresses.
    pub fn with_pod_masquerade(mut self, masquerade: bool) -> Self {
        self.pod_masquerade = masquerade;
        self
    }

    /// The bollard client, for what the runtime trait does not cover.
    pub fn client(&self) -> &Docker {
        &self.docker
    }

    /// Builds rk's own images (pause, hello, busybox) that are missing or
    /// stale, from the static programs in `image_dir` (see `scripts/build-images`).
    pub async fn ensure_project_images(&self, image_dir: &Path) -> Result<(), ImageBuildError> {
        crate::images::ensure_project_images(&self.docker, image_dir).await
    }
}

#[async_trait]
impl ContainerRuntime for DockerRuntime {
    async fn version(&self) -> RuntimeResult<RuntimeVersion> {
        let version = self.docker.version().await.map_err(|e| docker_error("reading docker's version", e))?;
        let number = version.version.unwrap_or_default();
        Ok(RuntimeVersion { version: format!("docker://{number}") })
    }

    async fn ensure_network(&self, name: &str, subnet: &str, gateway: &str) -> RuntimeResult<()> {
        network::ensure_network(&self.docker, name, subnet, gateway, self.pod_masquerade).await
    }

    async fn remove_network(&self, name: &str) -> RuntimeResult<()> {
        network::remove_network(&self.docker, name).await
    }

    async fn image_present(&self, image: &str) -> RuntimeResult<bool> {
        images_pull::image_present(&self.docker, image).await
    }

    async fn pull_image(&self, image: &str) -> RuntimeResult<()> {
        images_pull::pull_image(&self.docker, image).await
    }

    async fn run_sandbox(&self, config: &SandboxConfig) -> RuntimeResult<String> {
        containers::run_sandbox(&self.docker, &self.node_name, config).await
    }

    async fn create_container(&self, config: &ContainerConfig) -> RuntimeResult<String> {
        containers::create_container(&self.docker, &self.node_name, config).await
    }

    async fn start_container(&self, id: &str) -> RuntimeResult<()> {
        containers::start_container(&self.docker, id).await
    }

    async fn stop_container(&self, id: &str, grace: Duration) -> RuntimeResult<()> {
        containers::stop_container(&self.docker, id, grace).await
    }

    async fn remove_container(&self, id: &str) -> RuntimeResult<()> {
        containers::remove_container(&self.docker, id).await
    }

    async fn list_containers(&self) -> RuntimeResult<Vec<ContainerInfo>> {
        self.listing.list(&self.docker, &self.node_name).await
    }

    async fn exec_sync(&self, id: &str, command: &[String], timeout: Duration) -> RuntimeResult<ExecOutput> {
        exec::exec_sync(&self.docker, id, command, timeout).await
    }

    async fn exec(&self, id: &str, options: ExecOptions) -> RuntimeResult<ExecSession> {
        exec::exec(&self.docker, id, options).await
    }

    async fn logs(
        &self,
        id: &str,
        options: LogOptions,
    ) -> RuntimeResult<BoxStream<'static, RuntimeResult<bytes::Bytes>>> {
        logs::logs(&self.docker, id, options).await
    }
}
