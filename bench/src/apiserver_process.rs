//! The real `rk-apiserver` binary as a child process, so the numbers include
//! everything a deployment pays for: the gRPC server, the registry, the watch
//! cache and the etcd client, and the memory figures are the process's own.

use anyhow::{bail, Context};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

const READY_TIMEOUT: Duration = Duration::from_secs(30);
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// A running rk-apiserver on loopback ports, killed when dropped.
pub struct ApiServer {
    child: Child,
    pid: u32,
    /// `127.0.0.1:PORT` of the gRPC API.
    pub address: String,
    health_port: u16,
    /// Holds the server's log; removed on drop.
    log_dir: tempfile::TempDir,
}

pub use rk_bench::procfs::Memory;

impl ApiServer {
    /// Starts the rk-apiserver found next to this executable against `etcd`
    /// and waits (bounded) until its /healthz answers 200.
    pub async fn start(etcd: &str) -> anyhow::Result<ApiServer> {
        let binary = binary_path()?;
        let (grpc_port, health_port) = (rk_testkit::free_port(), rk_testkit::free_port());
        let log_dir = tempfile::Builder::new().prefix("rk-bench-").tempdir().context("creating a log directory")?;
        let log = std::fs::File::create(log_dir.path().join("apiserver.log")).context("creating the apiserver log")?;
        let address = format!("127.0.0.1:{grpc_port}");
        let child = Command::new(&binary)
            .arg(format!("--etcd-servers={etcd}"))
            .arg(format!("--listen={address}"))
            .arg(format!("--health-listen=127.0.0.1:{health_port}"))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let pid = child.id().context("rk-apiserver exited at once")?;
        let mut server = ApiServer { child, pid, address, health_port, log_dir };
        server.wait_healthy().await?;
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn memory(&self) -> anyhow::Result<Memory> {
        Memory::read(self.pid).context("reading the apiserver's memory")
    }

    /// Stops the server and waits for it to go.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.child.kill().await.context("killing rk-apiserver")
    }

    async fn wait_healthy(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("rk-apiserver exited during start-up ({status}); its log:\n{}", self.log());
            }
            if is_healthy(self.health_port).await {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!("rk-apiserver not healthy after {READY_TIMEOUT:?}; its log:\n{}", self.log());
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.log_dir.path().join("apiserver.log")).unwrap_or_else(|e| format!("(no log: {e})"))
    }
}

/// `rk-apiserver` in the directory of this executable (`target/release`):
/// cargo builds both there, and a bench must never pick up some other build.
pub fn binary_path() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("locating rk-bench's executable")?;
    let path = exe.with_file_name("rk-apiserver");
    if !path.is_file() {
        bail!("{} not found: build it first: cargo build --release -p rk-apiserver", path.display());
    }
    Ok(path)
}

/// One `GET /healthz`; anything but a 200 within a second counts as not healthy yet.
async fn is_healthy(port: u16) -> bool {
    let probe = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await?;
        std::io::Result::Ok(response.starts_with("HTTP/1.1 200"))
    };
    matches!(tokio::time::timeout(Duration::from_secs(1), probe).await, Ok(Ok(true)))
}
