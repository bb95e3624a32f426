//! Test helpers: a local HTTP server whose status can be changed, and a
//! runtime whose only working call is a scripted `exec_sync`.

use crate::runtime::*;
use async_trait::async_trait;
use futures::stream::BoxStream;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Answers every request on 127.0.0.1 with `status`; keeps the requests.
pub struct HttpServer {
    pub port: u16,
    pub status: Arc<AtomicU16>,
    pub requests: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl HttpServer {
    pub async fn start(status: u16) -> HttpServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let status = Arc::new(AtomicU16::new(status));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (answer, seen) = (Arc::clone(&status), Arc::clone(&requests));
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let (answer, seen) = (Arc::clone(&answer), Arc::clone(&seen));
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut chunk = [0u8; 1024];
                    while !request.ends_with(b"\r\n\r\n") {
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&chunk[..n]),
                        }
                    }
                    seen.lock().unwrap().push(String::from_utf8_lossy(&request).into_owned());
                    let status = answer.load(Ordering::SeqCst);
                    let response = format!("HTTP/1.1 {status} Status\r\nContent-Length: 0\r\n\r\n");
                    let _ = stream.write_all(response.as_bytes()).await;
                });
            }
        });
        HttpServer { port, status, requests, task }
    }

    pub fn set_status(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A port nothing listens on (bound once, then released).
pub async fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port()
}

/// `exec_sync` answers with the exit code set for the container (0 when
/// none is set) and `output`; every other call is refused.
#[derive(Default)]
pub struct ExecRuntime {
    exit_codes: Mutex<HashMap<String, i64>>,
    pub output: Mutex<Vec<u8>>,
    pub calls: AtomicUsize,
}

impl ExecRuntime {
    pub fn set_exit_code(&self, container_id: &str, code: i64) {
        self.exit_codes.lock().unwrap().insert(container_id.to_string(), code);
    }
}

fn unused<T>() -> RuntimeResult<T> {
    Err(RuntimeError::Other("not used by the probe tests".to_string()))
}

#[async_trait]
impl ContainerRuntime for ExecRuntime {
    async fn exec_sync(&self, id: &str, _command: &[String], _timeout: Duration) -> RuntimeResult<ExecOutput> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let exit_code = self.exit_codes.lock().unwrap().get(id).copied().unwrap_or(0);
        Ok(ExecOutput { exit_code, output: self.output.lock().unwrap().clone() })
    }

    async fn version(&self) -> RuntimeResult<RuntimeVersion> {
        unused()
    }
    async fn ensure_network(&self, _: &str, _: &str, _: &str) -> RuntimeResult<()> {
        unused()
    }
    async fn image_present(&self, _: &str) -> RuntimeResult<bool> {
        unused()
    }
    async fn pull_image(&self, _: &str) -> RuntimeResult<()> {
        unused()
    }
    async fn run_sandbox(&self, _: &SandboxConfig) -> RuntimeResult<String> {
        unused()
    }
    async fn create_container(&self, _: &ContainerConfig) -> RuntimeResult<String> {
        unused()
    }
    async fn start_container(&self, _: &str) -> RuntimeResult<()> {
        unused()
    }
    async fn stop_container(&self, _: &str, _: Duration) -> RuntimeResult<()> {
        unused()
    }
    async fn remove_container(&self, _: &str) -> RuntimeResult<()> {
        unused()
    }
    async fn list_containers(&self) -> RuntimeResult<Vec<ContainerInfo>> {
        unused()
    }
    async fn exec(&self, _: &str, _: ExecOptions) -> RuntimeResult<ExecSession> {
        unused()
    }
    async fn logs(&self, _: &str, _: LogOptions) -> RuntimeResult<BoxStream<'static, RuntimeResult<bytes::Bytes>>> {
        unused()
    }
}
