//! The local cluster's node: a Docker daemon of its own (unless
//! `--docker-host` names one) and rk-kubelet, with the token the apiserver
//! presents to the kubelet's streaming endpoint.

use super::components::{find_program, Component, UpArgs};
use anyhow::Context;
use std::hash::{Hash, Hasher};
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct NodeArgs {
    /// Nodes to run on this machine: 0 (control plane only) or 1.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(0..=1))]
    pub nodes: u8,
    /// Run pods on this Docker daemon (unix:///path or tcp://) instead of one started for the cluster.
    #[arg(long)]
    pub docker_host: Option<String>,
    /// The node's name (default: this machine's hostname).
    #[arg(long)]
    pub node_name: Option<String>,
    /// The node's labels: key=value,key=value.
    #[arg(long, default_value = "")]
    pub node_labels: String,
    /// rk-kubelet health and metrics port.
    #[arg(long, default_value_t = 10248)]
    pub kubelet_health_port: u16,
    /// rk-kubelet streaming (logs, exec) port.
    #[arg(long, default_value_t = 10250)]
    pub kubelet_port: u16,
    /// An extra flag for rk-kubelet, e.g. --kubelet-arg=--backoff-initial=1 (repeatable).
    #[arg(long = "kubelet-arg", allow_hyphen_values = true)]
    pub kubelet_args: Vec<String>,
    /// Directory with the static rk-pause and rk-hello programs rk's images are built from
    /// (default: where scripts/build-images puts them, next to rkctl's build).
    #[arg(long)]
    pub image_dir: Option<PathBuf>,
}

impl Default for NodeArgs {
    fn default() -> Self {
        NodeArgs {
            nodes: 1,
            docker_host: None,
            node_name: None,
            node_labels: String::new(),
            kubelet_health_port: 10248,
            kubelet_port: 10250,
            kubelet_args: Vec::new(),
            image_dir: None,
        }
    }
}

impl NodeArgs {
    pub fn node_name(&self) -> anyhow::Result<String> {
        match &self.node_name {
            Some(name) => Ok(name.clone()),
            None => Ok(std::fs::read_to_string("/proc/sys/kernel/hostname")
                .context("reading the hostname for the node name (or pass --node-name)")?
                .trim()
                .to_string()),
        }
    }
}

fn docker_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("docker")
}

fn kubelet_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("kubelet")
}

/// Data `cluster down` removes (unless --keep-data).
pub fn data_dirs(state_dir: &Path) -> Vec<PathBuf> {
    vec![docker_dir(state_dir), exec_root(state_dir), kubelet_dir(state_dir)]
}

/// Detaches what is still mounted under `dir` (dockerd leaves its data root
/// bind-mounted on itself), deepest first, so the directory can be removed.
pub fn unmount_under(dir: &Path) -> anyhow::Result<()> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").context("reading /proc/self/mountinfo")?;
    // The fifth field is the mount point; octal escapes (\040 for a space) are left as they are.
    let mut points: Vec<PathBuf> = mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(PathBuf::from)
        .filter(|point| point.starts_with(dir))
        .collect();
    points.sort_by_key(|point| std::cmp::Reverse(point.components().count()));
    for point in points {
        let path = std::ffi::CString::new(point.as_os_str().as_encoded_bytes())?;
        if unsafe { libc::umount2(path.as_ptr(), libc::MNT_DETACH) } != 0 {
            let error = std::io::Error::last_os_error();
            anyhow::bail!("unmounting {}: {error}", point.display());
        }
    }
    Ok(())
}

fn own_docker_socket(state_dir: &Path) -> PathBuf {
    state_dir.join("docker.sock")
}

/// The kubelet credential, made on first use: random, readable by root only.
pub fn token_file(state_dir: &Path) -> anyhow::Result<PathBuf> {
    let path = state_dir.join("kubelet-token");
    if !path.exists() {
        let mut random = [0u8; 24];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut random)?;
        let token: String = random.iter().map(|b| format!("{b:02x}")).collect();
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .and_then(|mut file| std::io::Write::write_all(&mut file, token.as_bytes()))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(path)
}

/// Runs `rk-kubelet --cleanup` for the node `up` made: its pods'
/// containers, its pod network and its pod directories go. Needs the Docker
/// daemon still running and the kubelet already stopped.
pub fn clean_up(args: &UpArgs, state_dir: &Path) -> anyhow::Result<()> {
    if args.node.nodes == 0 {
        return Ok(());
    }
    let node_name = args.node.node_name()?;
    let docker_host = match &args.node.docker_host {
        Some(host) => host.clone(),
        None if own_docker_socket(state_dir).exists() => format!("unix://{}", own_docker_socket(state_dir).display()),
        None => return Ok(()),
    };
    let program = find_program("rk-kubelet", "build it with `cargo build --release` (scripts/cluster-up does)")?;
    let output = std::process::Command::new(program)
        .arg("--cleanup")
        .arg(format!("--node-name={node_name}"))
        .arg(format!("--docker-host={docker_host}"))
        .arg(format!("--pod-network={}", pod_network(&node_name)))
        .arg(format!("--root-dir={}", kubelet_dir(state_dir).display()))
        .output()
        .context("running rk-kubelet --cleanup")?;
    if !output.status.success() {
        anyhow::bail!("rk-kubelet --cleanup failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    print!("{}", String::from_utf8_lossy(&output.stdout));
    Ok(())
}

fn pod_network(node_name: &str) -> String {
    format!("rk-pods-{node_name}")
}

pub fn components(args: &UpArgs, state_dir: &Path) -> anyhow::Result<Vec<Component>> {
    let node = &args.node;
    if node.nodes == 0 {
        return Ok(Vec::new());
    }
    let node_name = node.node_name()?;
    let mut components = Vec::new();
    let docker_host = match &node.docker_host {
        Some(host) => host.clone(),
        None => {
            let socket = own_docker_socket(state_dir);
            components.push(Component {
                name: "dockerd",
                program: find_program("dockerd", "install Debian's docker.io (scripts/setup does)")?,
                args: vec![
                    format!("--host=unix://{}", socket.display()),
                    format!("--data-root={}", docker_dir(state_dir).display()),
                    format!("--exec-root={}", exec_root(state_dir).display()),
                    // Not dockerd.pid: that is the pid file rkctl keeps for every component.
                    format!("--pidfile={}", state_dir.join("docker-daemon.pid").display()),
                    // Pods use the node's own bridge network; no docker0 to clash with another daemon's.
                    "--bridge=none".into(),
                ],
                health_url: format!("unix://{}", socket.display()),
            });
            format!("unix://{}", socket.display())
        }
    };
    let mut kubelet_flags = vec![
        format!("--server={}", args.apiserver_address()),
        format!("--node-name={node_name}"),
        format!("--node-labels={}", node.node_labels),
        "--node-ip=127.0.0.1".to_string(),
        format!("--docker-host={docker_host}"),
        format!("--streaming-listen=127.0.0.1:{}", node.kubelet_port),
        format!("--streaming-token-file={}", token_file(state_dir)?.display()),
        format!("--health-listen=127.0.0.1:{}", node.kubelet_health_port),
        format!("--root-dir={}", kubelet_dir(state_dir).display()),
        format!("--image-dir={}", image_dir(node)?.display()),
        format!("--pod-network={}", pod_network(&node_name)),
    ];
    kubelet_flags.extend(node.kubelet_args.iter().cloned());
    components.push(Component {
        name: "rk-kubelet",
        program: find_program("rk-kubelet", "build it with `cargo build --release` (scripts/cluster-up does)")?,
        args: kubelet_flags,
        health_url: format!("http://127.0.0.1:{}/healthz", node.kubelet_health_port),
    });
    Ok(components)
}

/// Docker keeps its runtime state here; a socket path under it must stay
/// short, so it is not under the (possibly long) state directory.
fn exec_root(state_dir: &Path) -> PathBuf {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    state_dir.hash(&mut hasher);
    PathBuf::from(format!("/run/rk/docker-{:08x}", hasher.finish() as u32))
}

fn image_dir(node: &NodeArgs) -> anyhow::Result<PathBuf> {
    if let Some(dir) = &node.image_dir {
        return Ok(dir.clone());
    }
    // rkctl runs from target/{debug,release}; scripts/build-images writes the
    // static programs to target/x86_64-unknown-linux-gnu/release.
    let exe = std::env::current_exe().context("locating rkctl")?;
    let built = exe.parent().and_then(Path::parent).map(|target| target.join("x86_64-unknown-linux-gnu/release"));
    Ok(built.filter(|dir| dir.join("rk-pause").is_file()).unwrap_or_else(|| PathBuf::from("/usr/lib/rk/images")))
}
