//! The container runtime seam: everything the kubelet asks of Docker, as a
//! trait. `docker` talks to a real dockerd through bollard; `fake` runs pods
//! without containers (unit tests and hollow nodes).

pub mod docker;
pub mod fake;
pub mod labels;

use async_trait::async_trait;
use futures::stream::BoxStream;
use std::collections::BTreeMap;
use std::time::Duration;

pub type RuntimeResult<T> = Result<T, RuntimeError>;

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The image could not be pulled; the message is the runtime's own.
    #[error("{0}")]
    ImagePull(String),
    /// The image is not on the node and the pull policy forbids pulling it.
    #[error("{0}")]
    ImageNeverPull(String),
    #[error("container {0} not found")]
    NotFound(String),
    #[error("{0}")]
    Other(String),
}

/// What the pod's network namespace looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PodNetwork {
    /// The node's network namespace (`hostNetwork: true`).
    Host,
    /// A bridge network of the runtime, by name (one per node, for its pod CIDR).
    Bridge(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortMapping {
    pub host_port: u16,
    pub container_port: u16,
    /// "tcp", "udp" or "sctp" (lower case, as Docker writes it).
    pub protocol: String,
    pub host_ip: String,
}

/// The pause container: owns the pod's network, IPC and UTS namespaces.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub pod_uid: String,
    pub namespace: String,
    pub pod_name: String,
    /// The pod's hostname (its name).
    pub hostname: String,
    pub network: PodNetwork,
    pub port_mappings: Vec<PortMapping>,
    pub image: String,
    /// Incremented each time the sandbox is recreated.
    pub attempt: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub host_path: String,
    pub container_path: String,
    pub read_only: bool,
}

/// One app container of a pod, joining the sandbox's namespaces.
#[derive(Debug, Clone)]
pub struct ContainerConfig {
    pub pod_uid: String,
    pub namespace: String,
    pub pod_name: String,
    pub sandbox_id: String,
    /// The container's name in the pod spec.
    pub name: String,
    /// The restart count this container will have (0 for the first run).
    pub attempt: u32,
    pub image: String,
    /// `command` of the spec: replaces the image's ENTRYPOINT when set.
    pub entrypoint: Option<Vec<String>>,
    /// `args` of the spec: replaces the image's CMD when set.
    pub cmd: Option<Vec<String>>,
    pub working_dir: Option<String>,
    pub env: Vec<(String, String)>,
    pub mounts: Vec<Mount>,
    pub memory_limit_bytes: Option<i64>,
    /// CPU limit in nano-CPUs (1 core = 1e9).
    pub nano_cpus: Option<i64>,
    pub privileged: bool,
    pub stdin: bool,
    pub tty: bool,
    /// Extra labels to keep on the container (for example the spec hash).
    pub labels: BTreeMap<String, String>,
    /// Seconds the kubelet waits after SIGTERM before SIGKILL when it stops this container.
    pub termination_grace_seconds: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerState {
    Created,
    Running,
    Exited,
    Unknown,
}

/// A container the runtime reports, sandbox or app, with rk's labels decoded.
#[derive(Debug, Clone)]
pub struct ContainerInfo {
    pub id: String,
    pub pod_uid: String,
    pub namespace: String,
    pub pod_name: String,
    /// `None` for the sandbox (pause) container.
    pub container_name: Option<String>,
    pub attempt: u32,
    pub state: ContainerState,
    pub exit_code: i64,
    /// RFC 3339; empty when never started / not finished.
    pub started_at: String,
    pub finished_at: String,
    /// Why it finished, when the runtime says (`OOMKilled`, `Error`, `Completed`).
    pub reason: String,
    pub message: String,
    pub image: String,
    pub image_id: String,
    /// The pod IP, for a running sandbox on a bridge network.
    pub ip: Option<String>,
    pub labels: BTreeMap<String, String>,
}

impl ContainerInfo {
    pub fn is_sandbox(&self) -> bool {
        self.container_name.is_none()
    }
}

#[derive(Debug, Clone, Default)]
pub struct RuntimeVersion {
    /// As a Node reports it: `docker://20.10.24`.
    pub version: String,
}

#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    pub follow: bool,
    /// Only the last N lines.
    pub tail_lines: Option<u64>,
    pub timestamps: bool,
}

/// What a probe's or a user's exec produced, run to completion.
#[derive(Debug, Clone)]
pub struct ExecOutput {
    pub exit_code: i64,
    pub output: Vec<u8>,
}

/// An output chunk of an interactive exec.
#[derive(Debug, Clone)]
pub enum ExecChunk {
    Stdout(bytes::Bytes),
    Stderr(bytes::Bytes),
}

/// The caller's side of an interactive exec.
pub struct ExecSession {
    /// Output until the command ends.
    pub output: BoxStream<'static, RuntimeResult<ExecChunk>>,
    /// Bytes for the command's stdin; dropping it closes stdin.
    pub stdin: Option<tokio::sync::mpsc::Sender<bytes::Bytes>>,
    /// Terminal size changes (columns, rows), for `tty` sessions.
    pub resize: tokio::sync::mpsc::Sender<(u16, u16)>,
    /// Resolves to the exit code once the output has ended.
    pub exit_code: futures::future::BoxFuture<'static, RuntimeResult<i64>>,
}

#[derive(Debug, Clone)]
pub struct ExecOptions {
    pub command: Vec<String>,
    pub stdin: bool,
    pub tty: bool,
    /// Initial terminal size (columns, rows).
    pub size: Option<(u16, u16)>,
}

#[async_trait]
pub trait ContainerRuntime: Send + Sync + 'static {
    async fn version(&self) -> RuntimeResult<RuntimeVersion>;

    /// Makes sure the bridge network `name` exists with this subnet and gateway.
    async fn ensure_network(&self, name: &str, subnet: &str, gateway: &str) -> RuntimeResult<()>;

    /// Removes the network `name` if it exists (`rk-kubelet --cleanup`).
    /// Runtimes without networks of their own have nothing to remove.
    async fn remove_network(&self, _name: &str) -> RuntimeResult<()> {
        Ok(())
    }

    async fn image_present(&self, image: &str) -> RuntimeResult<bool>;
    async fn pull_image(&self, image: &str) -> RuntimeResult<()>;

    /// Creates and starts the pause container; returns its id.
    async fn run_sandbox(&self, config: &SandboxConfig) -> RuntimeResult<String>;
    /// Creates (does not start) an app container in the sandbox; returns its id.
    async fn create_container(&self, config: &ContainerConfig) -> RuntimeResult<String>;
    async fn start_container(&self, id: &str) -> RuntimeResult<()>;
    /// SIGTERM, then SIGKILL after `grace`.
    async fn stop_container(&self, id: &str, grace: Duration) -> RuntimeResult<()>;
    async fn remove_container(&self, id: &str) -> RuntimeResult<()>;

    /// Every container (running or not) that belongs to this node's pods.
    async fn list_containers(&self) -> RuntimeResult<Vec<ContainerInfo>>;

    /// Runs a command in a container to completion (probes), killed after `timeout`.
    async fn exec_sync(&self, id: &str, command: &[String], timeout: Duration) -> RuntimeResult<ExecOutput>;
    /// Starts an interactive command in a container.
    async fn exec(&self, id: &str, options: ExecOptions) -> RuntimeResult<ExecSession>;
    /// The container's output (stdout and stderr interleaved), as raw bytes.
    async fn logs(
        &self,
        id: &str,
        options: LogOptions,
    ) -> RuntimeResult<BoxStream<'static, RuntimeResult<bytes::Bytes>>>;
}
