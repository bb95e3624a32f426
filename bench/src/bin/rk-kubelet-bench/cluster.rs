//! The cluster under test: `rkctl cluster up` with the release binaries next
//! to this bench, in a temporary state directory, on free loopback ports.
//! Dropping it (also on an error or Ctrl-C) stops the kubelet, removes the
//! node's containers and network and the bench's own, then runs `cluster down`.

use anyhow::{bail, Context};
use rk_bench::{progress, release};
use rk_client::Client;
use rk_testkit::free_port;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Marks the containers the bench makes itself (the Docker baseline).
pub const BENCH_LABEL: &str = "io.rk.bench";
/// How long a component gets to stop on SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

pub struct Cluster {
    dir: tempfile::TempDir,
    pub server: String,
    /// The node's name and Docker host; `None` for a control plane only.
    node: Option<(String, String)>,
    /// The pod CIDR range, held until the cluster is down.
    _cidr: Option<rk_testkit::CidrLease>,
}

impl Cluster {
    /// The control plane and one node (rk-kubelet on `docker_host`, or on a
    /// dockerd of the cluster's own), with a /16 of 10.128.0.0/9 of its own.
    pub async fn with_node(docker_host: Option<&str>) -> anyhow::Result<Cluster> {
        let cidr = rk_testkit::lease_cluster_cidr();
        let node = format!("bench-{}", free_port());
        let mut flags = vec![
            format!("--cluster-cidr={}", cidr.cidr()),
            format!("--node-name={node}"),
            format!("--kubelet-port={}", free_port()),
            format!("--kubelet-health-port={}", free_port()),
        ];
        let mut cluster = Cluster::new(Some(cidr))?;
        let host = match docker_host {
            Some(host) => host.to_string(),
            None => format!("unix://{}", cluster.dir.path().join("docker.sock").display()),
        };
        cluster.node = Some((node, host));
        if let Some(host) = docker_host {
            flags.push(format!("--docker-host={host}"));
        }
        cluster.up(&flags).await?;
        Ok(cluster)
    }

    /// The control plane only, handing node pod CIDRs out of `cluster_cidr`.
    pub async fn control_plane(cluster_cidr: &str) -> anyhow::Result<Cluster> {
        let mut cluster = Cluster::new(None)?;
        cluster.up(&["--nodes=0".to_string(), format!("--cluster-cidr={cluster_cidr}")]).await?;
        Ok(cluster)
    }

    fn new(cidr: Option<rk_testkit::CidrLease>) -> anyhow::Result<Cluster> {
        let dir = tempfile::Builder::new().prefix("rk-kubelet-bench-").tempdir().context("creating a state dir")?;
        Ok(Cluster { dir, server: String::new(), node: None, _cidr: cidr })
    }

    async fn up(&mut self, extra: &[String]) -> anyhow::Result<()> {
        let api_port = free_port();
        self.server = format!("127.0.0.1:{api_port}");
        let spinner = progress::spinner("rkctl cluster up");
        let output = release::rkctl(self.dir.path())?
            .args(["cluster", "up"])
            .args(release::control_plane_ports(api_port))
            .args(extra)
            .output()
            .await
            .context("running rkctl cluster up")?;
        spinner.finish_and_clear();
        if !output.status.success() {
            bail!(
                "rkctl cluster up failed: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }

    pub fn state_dir(&self) -> &Path {
        self.dir.path()
    }

    pub async fn client(&self) -> anyhow::Result<Client> {
        Client::connect(&self.server).await.with_context(|| format!("connecting to the apiserver at {}", self.server))
    }

    pub fn node_name(&self) -> &str {
        self.node.as_ref().map_or("", |(name, _)| name)
    }

    pub fn docker_host(&self) -> &str {
        self.node.as_ref().map_or("", |(_, host)| host)
    }

    /// The node's Docker network, as `cluster up` names it.
    pub fn pod_network(&self) -> String {
        format!("rk-pods-{}", self.node_name())
    }

    /// The pid of a component `cluster up` started (`rk-kubelet`, `dockerd`).
    pub fn pid(&self, component: &str) -> anyhow::Result<u32> {
        pid_file(self.dir.path(), component)
            .with_context(|| format!("no running {component} (no pid in {})", self.dir.path().display()))
    }

    fn docker(&self, args: &[&str]) -> Option<String> {
        let output = Command::new("docker").arg("-H").arg(self.docker_host()).args(args).output().ok()?;
        Some(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Removes the containers of the node and of the bench, and the node's network.
    fn remove_containers(&self) {
        let Some((node, _)) = &self.node else { return };
        for label in [format!("{}={node}", rk_kubelet::runtime::labels::NODE), BENCH_LABEL.to_string()] {
            let ids = self.docker(&["ps", "-aq", "--filter", &format!("label={label}")]).unwrap_or_default();
            let ids: Vec<&str> = ids.split_whitespace().collect();
            if !ids.is_empty() {
                self.docker(&[&["rm", "-f", "-v"], ids.as_slice()].concat());
            }
        }
        self.docker(&["network", "rm", &self.pod_network()]);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let dir = self.dir.path();
        // First the kubelet, so it does not restart what is removed next.
        if let Some(pid) = pid_file(dir, "rk-kubelet") {
            stop(pid);
        }
        self.remove_containers();
        release::cluster_down(dir);
    }
}

fn pid_file(dir: &Path, component: &str) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(dir.join(format!("{component}.pid"))).ok()?.trim().parse().ok()?;
    Path::new(&format!("/proc/{pid}")).exists().then_some(pid)
}

/// SIGTERM, then SIGKILL when `pid` is still there after [`STOP_TIMEOUT`].
pub fn stop(pid: u32) {
    let pid = pid as i32;
    // SAFETY: kill has no memory effects; the pid is one this bench started (through rkctl).
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let deadline = Instant::now() + STOP_TIMEOUT;
    while Path::new(&format!("/proc/{pid}")).exists() && !is_zombie(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if Path::new(&format!("/proc/{pid}")).exists() && !is_zombie(pid) {
        // SAFETY: as above.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
}

fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')))
}
