//! A scripted container runtime for streaming tests (the kubelet's and the
//! apiserver's): it lists the containers it is given, returns their logs, and
//! runs a few pretend commands for exec. Everything else is unsupported.

use crate::runtime::*;
use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_stream::wrappers::ReceiverStream;

/// The uid that [`container`] gives the pod `namespace/pod`.
pub fn pod_uid(namespace: &str, pod: &str) -> String {
    format!("uid-{namespace}-{pod}")
}

/// An app container of the pod `namespace/pod`.
pub fn container(
    id: &str,
    namespace: &str,
    pod: &str,
    name: &str,
    attempt: u32,
    state: ContainerState,
) -> ContainerInfo {
    ContainerInfo {
        id: id.into(),
        pod_uid: pod_uid(namespace, pod),
        namespace: namespace.into(),
        pod_name: pod.into(),
        container_name: Some(name.into()),
        attempt,
        state,
        exit_code: 0,
        started_at: String::new(),
        finished_at: String::new(),
        reason: String::new(),
        message: String::new(),
        image: "busybox".into(),
        image_id: String::new(),
        ip: None,
        labels: BTreeMap::new(),
    }
}

/// Exec commands it understands:
/// - `echo ARGS...`: prints the arguments, exits 0;
/// - `cat`: copies stdin to stdout and reports every terminal resize on stderr
///   (`resize 100x40`) until stdin closes, exits 0;
/// - `exit N`: prints `exiting N` on stderr, exits N;
/// - anything else: `CMD: not found` on stderr, exits 127.
#[derive(Default)]
pub struct ScriptedRuntime {
    containers: Vec<ContainerInfo>,
    /// What `logs` returns, per container id.
    logs: BTreeMap<String, Vec<u8>>,
    /// Every logs call: container id and options.
    pub log_calls: Mutex<Vec<(String, LogOptions)>>,
    /// Every exec call: container id and options.
    pub exec_calls: Mutex<Vec<(String, ExecOptions)>>,
}

impl ScriptedRuntime {
    pub fn new(containers: Vec<ContainerInfo>) -> ScriptedRuntime {
        ScriptedRuntime { containers, ..Default::default() }
    }

    /// Sets the log of container `id`.
    pub fn with_log(mut self, id: &str, log: &str) -> ScriptedRuntime {
        self.logs.insert(id.into(), log.as_bytes().to_vec());
        self
    }
}

fn unsupported<T>() -> RuntimeResult<T> {
    Err(RuntimeError::Other("the scripted test runtime only lists containers, serves logs and runs exec".into()))
}

#[async_trait]
impl ContainerRuntime for ScriptedRuntime {
    async fn version(&self) -> RuntimeResult<RuntimeVersion> {
        Ok(RuntimeVersion { version: "scripted://0".into() })
    }
    async fn ensure_network(&self, _: &str, _: &str, _: &str) -> RuntimeResult<()> {
        unsupported()
    }
    async fn image_present(&self, _: &str) -> RuntimeResult<bool> {
        unsupported()
    }
    async fn pull_image(&self, _: &str) -> RuntimeResult<()> {
        unsupported()
    }
    async fn run_sandbox(&self, _: &SandboxConfig) -> RuntimeResult<String> {
        unsupported()
    }
    async fn create_container(&self, _: &ContainerConfig) -> RuntimeResult<String> {
        unsupported()
    }
    async fn start_container(&self, _: &str) -> RuntimeResult<()> {
        unsupported()
    }
    async fn stop_container(&self, _: &str, _: Duration) -> RuntimeResult<()> {
        unsupported()
    }
    async fn remove_container(&self, _: &str) -> RuntimeResult<()> {
        unsupported()
    }
    async fn list_containers(&self) -> RuntimeResult<Vec<ContainerInfo>> {
        Ok(self.containers.clone())
    }
    async fn exec_sync(&self, _: &str, _: &[String], _: Duration) -> RuntimeResult<ExecOutput> {
        unsupported()
    }

    async fn exec(&self, id: &str, options: ExecOptions) -> RuntimeResult<ExecSession> {
        if !self.containers.iter().any(|c| c.id == id) {
            return Err(RuntimeError::NotFound(id.into()));
        }
        self.exec_calls.lock().unwrap().push((id.into(), options.clone()));
        let (output, output_rx) = mpsc::channel(16);
        let (stdin, stdin_rx) = mpsc::channel(16);
        let (resize, resize_rx) = mpsc::channel(16);
        let (exit, exit_rx) = oneshot::channel();
        let stdin_rx = if options.stdin { Some(stdin_rx) } else { None };
        tokio::spawn(async move {
            let code = run_script(&options.command, output, stdin_rx, resize_rx).await;
            let _ = exit.send(code);
        });
        Ok(ExecSession {
            output: ReceiverStream::new(output_rx).boxed(),
            stdin: options.stdin.then_some(stdin),
            resize,
            exit_code: exit_rx.map(|code| code.map_err(|_| RuntimeError::Other("the command vanished".into()))).boxed(),
        })
    }

    async fn logs(&self, id: &str, options: LogOptions) -> RuntimeResult<BoxStream<'static, RuntimeResult<Bytes>>> {
        let log = self.logs.get(id).cloned().ok_or_else(|| RuntimeError::NotFound(id.into()))?;
        self.log_calls.lock().unwrap().push((id.into(), options.clone()));
        let content = futures::stream::iter(
            log.split_inclusive(|b| *b == b'\n').map(|line| Ok(Bytes::copy_from_slice(line))).collect::<Vec<_>>(),
        );
        // A followed log stays open, as a running container's does.
        Ok(if options.follow { content.chain(futures::stream::pending()).boxed() } else { content.boxed() })
    }
}

type Output = mpsc::Sender<RuntimeResult<ExecChunk>>;

async fn run_script(
    command: &[String],
    output: Output,
    stdin: Option<mpsc::Receiver<Bytes>>,
    mut resize: mpsc::Receiver<(u16, u16)>,
) -> i64 {
    let say = |chunk: ExecChunk| {
        let output = output.clone();
        async move {
            let _ = output.send(Ok(chunk)).await;
        }
    };
    match command.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["echo", words @ ..] => {
            say(ExecChunk::Stdout(Bytes::from(format!("{}\n", words.join(" "))))).await;
            0
        }
        ["cat"] => {
            let Some(mut stdin) = stdin else { return 0 };
            loop {
                tokio::select! {
                    data = stdin.recv() => match data {
                        Some(data) => say(ExecChunk::Stdout(data)).await,
                        None => return 0,
                    },
                    Some((width, height)) = resize.recv() => {
                        say(ExecChunk::Stderr(Bytes::from(format!("resize {width}x{height}\n")))).await;
                    }
                }
            }
        }
        ["exit", code] => {
            say(ExecChunk::Stderr(Bytes::from(format!("exiting {code}\n")))).await;
            code.parse().unwrap_or(2)
        }
        other => {
            let name = other.first().copied().unwrap_or_default();
            say(ExecChunk::Stderr(Bytes::from(format!("{name}: not found\n")))).await;
            127
        }
    }
}
