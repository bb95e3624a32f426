//! A throwaway single-member etcd for tests.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use crate::free_port;

const READY_TIMEOUT: Duration = Duration::from_secs(15);
const POLL_INTERVAL: Duration = Duration::from_millis(20);
const FALLBACK_BINARY: &str = "/usr/bin/etcd";
const START_ATTEMPTS: u32 = 3;

/// A running etcd, killed (and its data removed) when dropped.
pub struct TestEtcd {
    child: Child,
    /// Unique per instance, so readiness checks recognise this etcd.
    name: String,
    client_port: u16,
    dir: tempfile::TempDir,
}

impl TestEtcd {
    /// Starts etcd on two free loopback ports and waits until it is healthy
    /// (at most 15 s).
    ///
    /// A port picked by [`free_port`] can be taken (by another test's server or
    /// an outgoing connection) before etcd binds it; etcd then exits with
    /// "address already in use" and is started again on other ports.
    ///
    /// The data directory lives in `/dev/shm` when there is one: etcd 3.4 has
    /// no `--unsafe-no-fsync`, and fsync on tmpfs costs nothing.
    pub async fn start() -> anyhow::Result<TestEtcd> {
        let binary = etcd_binary()?;
        let mut attempt = 1;
        loop {
            let mut etcd = Self::spawn(&binary)?;
            match etcd.wait_ready().await {
                Ok(()) => return Ok(etcd),
                Err(_) if attempt < START_ATTEMPTS && etcd.log().contains("address already in use") => attempt += 1,
                Err(e) => return Err(e),
            }
        }
    }

    fn spawn(binary: &Path) -> anyhow::Result<TestEtcd> {
        let dir = temp_dir()?;
        let name = dir.path().file_name().map_or_else(|| "rk-etcd".into(), |name| name.to_string_lossy().into_owned());
        let (client_port, peer_port) = (free_port(), free_port());
        let client_url = format!("http://127.0.0.1:{client_port}");
        let peer_url = format!("http://127.0.0.1:{peer_port}");
        let child = Command::new(binary)
            .arg(format!("--name={name}"))
            .arg(format!("--data-dir={}", dir.path().join("data").display()))
            .arg(format!("--listen-client-urls={client_url}"))
            .arg(format!("--advertise-client-urls={client_url}"))
            .arg(format!("--listen-peer-urls={peer_url}"))
            .arg(format!("--initial-advertise-peer-urls={peer_url}"))
            .arg(format!("--initial-cluster={name}={peer_url}"))
            .arg("--logger=zap")
            .arg(format!("--log-outputs={}", log_path(dir.path()).display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        Ok(TestEtcd { child, name, client_port, dir })
    }

    /// The client URL, e.g. `http://127.0.0.1:23790`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.client_port)
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("etcd exited during start-up ({status}); its log:\n{}", self.log());
            }
            if is_ready(self.client_port, &self.name).await {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!("etcd not healthy after {READY_TIMEOUT:?}; its log:\n{}", self.log());
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(log_path(self.dir.path())).unwrap_or_else(|e| format!("(no log: {e})"))
    }
}

impl Drop for TestEtcd {
    fn drop(&mut self) {
        // Kill before the TempDir field is dropped and removes the data dir.
        let _ = self.child.start_kill();
    }
}

/// `etcd` from PATH, else Debian's location.
fn etcd_binary() -> anyhow::Result<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join("etcd"))
        .find(|candidate| candidate.is_file());
    match on_path {
        Some(path) => Ok(path),
        None if Path::new(FALLBACK_BINARY).is_file() => Ok(FALLBACK_BINARY.into()),
        None => bail!("etcd not found: install Debian's etcd-server (scripts/setup does)"),
    }
}

fn temp_dir() -> anyhow::Result<tempfile::TempDir> {
    let mut builder = tempfile::Builder::new();
    builder.prefix("rk-etcd-");
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() { builder.tempdir_in(shm) } else { builder.tempdir() };
    dir.context("creating etcd's temporary directory")
}

fn log_path(dir: &Path) -> PathBuf {
    dir.join("etcd.log")
}

/// Whether the etcd on `port` is healthy (has a leader) and is the one named
/// `name`, not another test's that took the port first.
async fn is_ready(port: u16, name: &str) -> bool {
    let health = http(port, "GET /health HTTP/1.0\r\n\r\n").await;
    if !health.is_some_and(|response| response.contains(r#""health":"true""#)) {
        return false;
    }
    let members = http(port, "POST /v3/cluster/member/list HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}").await;
    members.is_some_and(|response| response.contains(&format!(r#""name":"{name}""#)))
}

/// One HTTP/1.0 exchange on loopback; None on any failure.
async fn http(port: u16, request: &str) -> Option<String> {
    let exchange = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
        stream.write_all(request.as_bytes()).await?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await?;
        std::io::Result::Ok(response)
    };
    tokio::time::timeout(Duration::from_secs(1), exchange).await.ok()?.ok()
}
