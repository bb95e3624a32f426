//! Commands run in containers: to completion for probes (`exec_sync`), or
//! interactively with stdin, a terminal and resizes (`exec`).

use std::pin::Pin;
use std::time::{Duration, Instant};

use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, ResizeExecOptions, StartExecOptions, StartExecResults};
use bollard::Docker;
use bytes::Bytes;
use futures::{FutureExt, StreamExt};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

use super::errors::{container_error, docker_error};
use crate::runtime::{ExecChunk, ExecOptions, ExecOutput, ExecSession, RuntimeError, RuntimeResult};

/// Output kept from a probe's command; the rest is read and dropped.
const MAX_SYNC_OUTPUT: usize = 1024 * 1024;
/// How long after its output ended an exec may take to report its exit code.
const EXIT_CODE_WAIT: Duration = Duration::from_secs(10);
const EXIT_CODE_POLL: Duration = Duration::from_millis(10);
const STDIN_BUFFER: usize = 16;
const RESIZE_BUFFER: usize = 4;

/// Runs `command` to completion. Docker cannot kill an exec, so after
/// `timeout` this gives up on it (the command may still run) with an error.
pub(super) async fn exec_sync(
    docker: &Docker,
    id: &str,
    command: &[String],
    timeout: Duration,
) -> RuntimeResult<ExecOutput> {
    let run = async {
        let exec_id = create(docker, id, command, false, false).await?;
        let mut output = match docker.start_exec(&exec_id, None).await {
            Ok(StartExecResults::Attached { output, .. }) => output,
            Ok(StartExecResults::Detached) => return Err(detached()),
            Err(e) => return Err(container_error(id, "running a command in", e)),
        };
        let mut collected = Vec::new();
        while let Some(chunk) = output.next().await {
            let chunk = chunk.map_err(|e| docker_error(&format!("reading the output of {command:?} in {id}"), e))?;
            let bytes = chunk.into_bytes();
            let room = MAX_SYNC_OUTPUT.saturating_sub(collected.len());
            collected.extend_from_slice(&bytes[..bytes.len().min(room)]);
        }
        let exit_code = exit_code(docker, &exec_id).await?;
        Ok(ExecOutput { exit_code, output: collected })
    };
    tokio::time::timeout(timeout, run).await.unwrap_or_else(|_| {
        Err(RuntimeError::Other(format!("command {command:?} in container {id} timed out after {timeout:?}")))
    })
}

/// Starts `options.command` attached; see [`ExecSession`].
pub(super) async fn exec(docker: &Docker, id: &str, options: ExecOptions) -> RuntimeResult<ExecSession> {
    let exec_id = create(docker, id, &options.command, options.stdin, options.tty).await?;
    let start = StartExecOptions { detach: false, tty: options.tty, output_capacity: None };
    let (output, input) = match docker.start_exec(&exec_id, Some(start)).await {
        Ok(StartExecResults::Attached { output, input }) => (output, input),
        Ok(StartExecResults::Detached) => return Err(detached()),
        Err(e) => return Err(container_error(id, "running a command in", e)),
    };
    if let Some((columns, rows)) = options.size {
        resize(docker, &exec_id, columns, rows).await;
    }
    // Tells the exit-code future that the output ended (or was dropped).
    let (ended_tx, ended_rx) = oneshot::channel::<()>();
    let output = output
        .filter_map(|item| async move {
            match item {
                Ok(LogOutput::StdOut { message } | LogOutput::Console { message }) => {
                    Some(Ok(ExecChunk::Stdout(message)))
                }
                Ok(LogOutput::StdErr { message }) => Some(Ok(ExecChunk::Stderr(message))),
                Ok(LogOutput::StdIn { .. }) => None,
                Err(e) => Some(Err(docker_error("reading an exec's output", e))),
            }
        })
        .chain(
            futures::stream::once(async move {
                let _ = ended_tx.send(());
            })
            .filter_map(|()| async { None }),
        )
        .boxed();
    let exit_code = {
        let docker = docker.clone();
        let exec_id = exec_id.clone();
        async move {
            let _ = ended_rx.await;
            exit_code(&docker, &exec_id).await
        }
        .boxed()
    };
    Ok(ExecSession {
        output,
        stdin: options.stdin.then(|| forward_stdin(input)),
        resize: forward_resizes(docker.clone(), exec_id),
        exit_code,
    })
}

async fn create(docker: &Docker, id: &str, command: &[String], stdin: bool, tty: bool) -> RuntimeResult<String> {
    if command.is_empty() {
        return Err(RuntimeError::Other(format!("exec in container {id}: the command is empty")));
    }
    let options = CreateExecOptions {
        attach_stdin: Some(stdin),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        tty: Some(tty),
        cmd: Some(command.to_vec()),
        ..Default::default()
    };
    docker
        .create_exec(id, options)
        .await
        .map(|created| created.id)
        .map_err(|e| container_error(id, "running a command in", e))
}

/// The exec's exit code, once Docker has seen the process end.
async fn exit_code(docker: &Docker, exec_id: &str) -> RuntimeResult<i64> {
    let deadline = Instant::now() + EXIT_CODE_WAIT;
    loop {
        let inspect =
            docker.inspect_exec(exec_id).await.map_err(|e| docker_error(&format!("inspecting exec {exec_id}"), e))?;
        if inspect.running != Some(true) {
            return inspect
                .exit_code
                .ok_or_else(|| RuntimeError::Other(format!("exec {exec_id} ended without an exit code")));
        }
        if Instant::now() > deadline {
            return Err(RuntimeError::Other(format!(
                "exec {exec_id} still runs {EXIT_CODE_WAIT:?} after its output ended"
            )));
        }
        tokio::time::sleep(EXIT_CODE_POLL).await;
    }
}

/// Writes what the caller sends to the command's stdin, closing it when the
/// caller drops the sender.
fn forward_stdin(mut input: Pin<Box<dyn AsyncWrite + Send>>) -> mpsc::Sender<Bytes> {
    let (tx, mut rx) = mpsc::channel::<Bytes>(STDIN_BUFFER);
    tokio::spawn(async move {
        while let Some(bytes) = rx.recv().await {
            if input.write_all(&bytes).await.is_err() || input.flush().await.is_err() {
                return;
            }
        }
        let _ = input.shutdown().await;
    });
    tx
}

fn forward_resizes(docker: Docker, exec_id: String) -> mpsc::Sender<(u16, u16)> {
    let (tx, mut rx) = mpsc::channel::<(u16, u16)>(RESIZE_BUFFER);
    tokio::spawn(async move {
        while let Some((columns, rows)) = rx.recv().await {
            resize(&docker, &exec_id, columns, rows).await;
        }
    });
    tx
}

/// A failed resize only misdraws a terminal: logged, not fatal.
async fn resize(docker: &Docker, exec_id: &str, columns: u16, rows: u16) {
    let size = ResizeExecOptions { width: columns, height: rows };
    if let Err(e) = docker.resize_exec(exec_id, size).await {
        tracing::debug!(exec = exec_id, error = %e, "resizing an exec's terminal failed");
    }
}

fn detached() -> RuntimeError {
    RuntimeError::Other("docker started an exec detached instead of attached".to_string())
}
