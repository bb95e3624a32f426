//! The local cluster's nodes. One node runs on the host's network: a Docker
//! daemon of its own (unless `--docker-host` names one) and rk-kubelet.
//! Two or more are network namespaces (netns.rs), each with its own
//! dockerd and kubelet routing pods host-gw style. The apiserver presents a
//! token to the kubelets' streaming endpoints.

use super::components::{find_program, Component, UpArgs};
use super::netns::NodeNetwork;
use anyhow::Context;
use std::hash::{Hash, Hasher};
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Most nodes `cluster up` runs on one machine.
const MAX_NODES: u8 = 3;

#[derive(clap::Args, Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct NodeArgs {
    /// Nodes to run on this machine: 0 (control plane only), 1 (on the host's network) or up to 3
    /// (each in a network namespace of its own, named node1..nodeN).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(0..=MAX_NODES as i64))]
    pub nodes: u8,
    /// Run pods on this Docker daemon (unix:///path or tcp://) instead of one started for the cluster
    /// (one node only).
    #[arg(long)]
    pub docker_host: Option<String>,
    /// The node's name (default: this machine's hostname); with several nodes, their prefix
    /// (`<name>-node1`..., default node1...).
    #[arg(long)]
    pub node_name: Option<String>,
    /// Node labels: key=value,key=value for every node, or NODE:key=value,... for one
    /// (NODE is node1..nodeN or the node's name). Repeatable.
    #[arg(long)]
    pub node_labels: Vec<String>,
    /// Subnet of the bridge joining the nodes' namespaces (two or more nodes); the host takes its first address.
    #[arg(long, default_value = "10.199.0.0/24")]
    pub node_subnet: String,
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
            node_labels: Vec::new(),
            node_subnet: "10.199.0.0/24".into(),
            kubelet_health_port: 10248,
            kubelet_port: 10250,
            kubelet_args: Vec::new(),
            image_dir: None,
        }
    }
}

impl NodeArgs {
    fn host_name(&self) -> anyhow::Result<String> {
        match &self.node_name {
            Some(name) => Ok(name.clone()),
            None => Ok(std::fs::read_to_string("/proc/sys/kernel/hostname")
                .context("reading the hostname for the node name (or pass --node-name)")?
                .trim()
                .to_string()),
        }
    }

    /// Several nodes live in namespaces on a bridge; one lives on the host's network.
    pub fn network(&self, state_dir: &Path) -> anyhow::Result<Option<NodeNetwork>> {
        if self.nodes < 2 {
            return Ok(None);
        }
        Ok(Some(NodeNetwork::new(state_dir, &self.node_subnet)?))
    }

    /// The nodes `up` runs, in order.
    pub fn local_nodes(&self, state_dir: &Path) -> anyhow::Result<Vec<LocalNode>> {
        if self.nodes == 1 {
            let name = self.host_name()?;
            return Ok(vec![LocalNode { name, index: None, dir: state_dir.to_path_buf() }]);
        }
        Ok((1..=self.nodes)
            .map(|k| LocalNode {
                name: match &self.node_name {
                    Some(prefix) => format!("{prefix}-node{k}"),
                    None => format!("node{k}"),
                },
                index: Some(k),
                dir: state_dir.join(format!("node{k}")),
            })
            .collect())
    }

    /// The labels of `node`: the unqualified ones and those naming it.
    fn labels_of(&self, node: &LocalNode, all: &[LocalNode]) -> anyhow::Result<String> {
        let mut labels = Vec::new();
        for value in &self.node_labels {
            match value.split_once(':').filter(|(target, _)| !target.contains('=')) {
                None => labels.push(value.clone()),
                Some((target, pairs)) => {
                    if !all.iter().any(|n| n.answers_to(target)) {
                        let names: Vec<String> = all.iter().map(|n| n.short_name()).collect();
                        anyhow::bail!(
                            "--node-labels {value:?} names node {target:?}; this cluster's nodes are {}",
                            names.join(", ")
                        );
                    }
                    if node.answers_to(target) {
                        labels.push(pairs.to_string());
                    }
                }
            }
        }
        Ok(labels.into_iter().filter(|l| !l.is_empty()).collect::<Vec<_>>().join(","))
    }
}

/// One node of the local cluster and where its files are.
pub struct LocalNode {
    /// The Node object's name.
    pub name: String,
    /// `K` of nodeK with several nodes; None for the one node on the host's network.
    pub index: Option<u8>,
    /// Its sockets and data: the state dir itself for the single node.
    dir: PathBuf,
}

impl LocalNode {
    fn short_name(&self) -> String {
        self.index.map(|k| format!("node{k}")).unwrap_or_else(|| self.name.clone())
    }

    fn answers_to(&self, target: &str) -> bool {
        target == self.name || target == self.short_name()
    }

    /// `dockerd` for the single node, `node1-dockerd` with several.
    pub fn component_name(&self, base: &str) -> String {
        match self.index {
            Some(k) => format!("node{k}-{base}"),
            None => base.to_string(),
        }
    }

    fn docker_socket(&self) -> PathBuf {
        self.dir.join("docker.sock")
    }

    /// Data `cluster down` removes (unless --keep-data).
    fn data_dirs(&self) -> Vec<PathBuf> {
        match self.index {
            Some(_) => vec![self.dir.clone(), exec_root(&self.dir)],
            None => vec![docker_dir(&self.dir), exec_root(&self.dir), kubelet_dir(&self.dir)],
        }
    }

    fn pod_network(&self) -> String {
        format!("rk-pods-{}", self.name)
    }
}

/// Component names of the nodes, in start order (for `down` when programs may be missing).
pub fn component_names(args: &NodeArgs, state_dir: &Path) -> Vec<String> {
    let nodes = args.local_nodes(state_dir).unwrap_or_default();
    nodes.iter().flat_map(|node| NODE_COMPONENTS.iter().map(|base| node.component_name(base))).collect()
}

/// What runs on each node, in start order.
const NODE_COMPONENTS: &[&str] = &["dockerd", "rk-kubelet", "rk-proxy"];

/// Makes the nodes' namespaces and bridge (two or more nodes) before anything starts.
pub fn prepare(args: &NodeArgs, state_dir: &Path) -> anyhow::Result<()> {
    if let Some(network) = args.network(state_dir)? {
        network.set_up(args.nodes).context("setting up the nodes' network namespaces")?;
    }
    Ok(())
}

/// Removes the nodes' namespaces, bridge and rules; their processes must be stopped.
pub fn tear_down(args: &NodeArgs, state_dir: &Path) -> anyhow::Result<()> {
    let Some(network) = args.network(state_dir)? else {
        return Ok(());
    };
    for removed in network.tear_down()? {
        println!("removed {removed}");
    }
    Ok(())
}

fn docker_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("docker")
}

fn kubelet_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("kubelet")
}

/// Data `cluster down` removes (unless --keep-data).
pub fn data_dirs(args: &NodeArgs, state_dir: &Path) -> Vec<PathBuf> {
    args.local_nodes(state_dir).unwrap_or_default().iter().flat_map(LocalNode::data_dirs).collect()
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
pub fn clean_up(args: &UpArgs, state_dir: &Path, component: &str) -> anyhow::Result<()> {
    let nodes = args.node.local_nodes(state_dir).unwrap_or_default();
    let Some(node) = nodes.iter().find(|node| node.component_name("rk-kubelet") == component) else {
        return Ok(());
    };
    let docker_host = match &args.node.docker_host {
        Some(host) if node.index.is_none() => host.clone(),
        _ if node.docker_socket().exists() => format!("unix://{}", node.docker_socket().display()),
        _ => return Ok(()),
    };
    let program = find_program("rk-kubelet", "build it with `cargo build --release` (scripts/cluster-up does)")?;
    let output = std::process::Command::new(program)
        .arg("--cleanup")
        .arg(format!("--node-name={}", node.name))
        .arg(format!("--docker-host={docker_host}"))
        .arg(format!("--pod-network={}", node.pod_network()))
        .arg(format!("--root-dir={}", kubelet_dir(&node.dir).display()))
        .output()
        .context("running rk-kubelet --cleanup")?;
    if !output.status.success() {
        anyhow::bail!("rk-kubelet --cleanup failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    print!("{}", String::from_utf8_lossy(&output.stdout));
    Ok(())
}

/// Every node's components, in start order.
pub fn components(args: &UpArgs, state_dir: &Path) -> anyhow::Result<Vec<Component>> {
    let node_args = &args.node;
    if node_args.nodes > 1 && node_args.docker_host.is_some() {
        anyhow::bail!(
            "--docker-host runs one node's pods; with --nodes {} each node has its own dockerd",
            node_args.nodes
        );
    }
    let network = node_args.network(state_dir)?;
    let nodes = node_args.local_nodes(state_dir)?;
    let mut components = Vec::new();
    for node in &nodes {
        let labels = node_args.labels_of(node, &nodes)?;
        components.extend(node_components(args, state_dir, node, network.as_ref(), &labels)?);
    }
    Ok(components)
}

/// One node's components: dockerd (unless --docker-host), rk-kubelet; each
/// run in the node's namespace when it has one.
fn node_components(
    args: &UpArgs,
    state_dir: &Path,
    node: &LocalNode,
    network: Option<&NodeNetwork>,
    labels: &str,
) -> anyhow::Result<Vec<Component>> {
    let node_args = &args.node;
    // Where the node's servers listen and the apiserver is reached from it.
    let (node_ip, server) = match (network, node.index) {
        (Some(network), Some(k)) => {
            (network.node_address(k).to_string(), format!("{}:{}", network.host_address(), args.apiserver_port))
        }
        _ => ("127.0.0.1".to_string(), args.apiserver_address()),
    };
    let in_node = |name: &str, program: PathBuf, flags: Vec<String>, health_url: String| match (network, node.index) {
        (Some(network), Some(k)) => Ok::<_, anyhow::Error>(Component {
            name: node.component_name(name),
            // nsenter execs the program: the pid file holds the program's own pid.
            program: find_program("nsenter", "install Debian's util-linux")?,
            args: [vec![format!("--net={}", network.netns_path(k)), program.display().to_string()], flags].concat(),
            health_url,
        }),
        _ => Ok(Component { name: node.component_name(name), program, args: flags, health_url }),
    };
    let mut components = Vec::new();
    let docker_host = match &node_args.docker_host {
        Some(host) => host.clone(),
        None => {
            let socket = node.docker_socket();
            components.push(in_node(
                "dockerd",
                find_program("dockerd", "install Debian's docker.io (scripts/setup does)")?,
                vec![
                    format!("--host=unix://{}", socket.display()),
                    format!("--data-root={}", docker_dir(&node.dir).display()),
                    format!("--exec-root={}", exec_root(&node.dir).display()),
                    // Not dockerd.pid: that is the pid file rkctl keeps for every component.
                    format!("--pidfile={}", node.dir.join("docker-daemon.pid").display()),
                    // Pods use the node's own bridge network; no docker0 to clash with another daemon's.
                    "--bridge=none".into(),
                ],
                format!("unix://{}", socket.display()),
            )?);
            format!("unix://{}", socket.display())
        }
    };
    let mut kubelet_flags = vec![
        format!("--server={server}"),
        format!("--node-name={}", node.name),
        format!("--node-labels={labels}"),
        format!("--node-ip={node_ip}"),
        format!("--docker-host={docker_host}"),
        format!("--streaming-listen={node_ip}:{}", node_args.kubelet_port),
        format!("--streaming-token-file={}", token_file(state_dir)?.display()),
        format!("--health-listen={node_ip}:{}", node_args.kubelet_health_port),
        format!("--root-dir={}", kubelet_dir(&node.dir).display()),
        format!("--image-dir={}", image_dir(node_args)?.display()),
        format!("--pod-network={}", node.pod_network()),
    ];
    if network.is_some() {
        // Nodes share the bridge: pods reach other nodes' pods through routes, unmasqueraded.
        kubelet_flags.extend(["--pod-routes".to_string(), format!("--cluster-cidr={}", args.cluster_cidr)]);
    }
    kubelet_flags.extend(node_args.kubelet_args.iter().cloned());
    components.push(in_node(
        "rk-kubelet",
        find_program("rk-kubelet", "build it with `cargo build --release` (scripts/cluster-up does)")?,
        kubelet_flags,
        format!("http://{node_ip}:{}/healthz", node_args.kubelet_health_port),
    )?);
    components.push(in_node(
        "rk-proxy",
        super::proxy::program()?,
        super::proxy::flags(args, &node.name, &node_ip, &server),
        super::proxy::health_url(args, &node_ip),
    )?);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn args(nodes: u8, labels: &[&str]) -> NodeArgs {
        NodeArgs { nodes, node_labels: labels.iter().map(|l| l.to_string()).collect(), ..Default::default() }
    }

    #[test]
    fn labels_apply_to_every_node_or_to_the_node_they_name() {
        let state = Path::new("/tmp/state");
        let args = args(2, &["node1:disktype=spinning", "node2:disktype=ssd,zone=b", "tier=test"]);
        let nodes = args.local_nodes(state).unwrap();
        assert_eq!(nodes.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(), ["node1", "node2"]);
        assert_eq!(args.labels_of(&nodes[0], &nodes).unwrap(), "disktype=spinning,tier=test");
        assert_eq!(args.labels_of(&nodes[1], &nodes).unwrap(), "disktype=ssd,zone=b,tier=test");
    }

    #[test]
    fn a_prefix_names_the_nodes_and_an_unknown_node_is_refused() {
        let state = Path::new("/tmp/state");
        let mut prefixed = args(2, &["lab-node2:disktype=ssd"]);
        prefixed.node_name = Some("lab".into());
        let nodes = prefixed.local_nodes(state).unwrap();
        assert_eq!(nodes[1].name, "lab-node2");
        assert_eq!(nodes[1].component_name("rk-kubelet"), "node2-rk-kubelet");
        assert_eq!(prefixed.labels_of(&nodes[1], &nodes).unwrap(), "disktype=ssd");
        let unknown = args(2, &["node3:disktype=ssd"]);
        let nodes = unknown.local_nodes(state).unwrap();
        let error = unknown.labels_of(&nodes[0], &nodes).unwrap_err().to_string();
        assert!(error.contains("\"node3\"") && error.contains("node1, node2"), "{error}");
    }

    #[test]
    fn the_single_node_keeps_its_names_and_takes_labels_as_they_are() {
        let mut single = args(1, &["disktype=ssd"]);
        single.node_name = Some("box".into());
        let nodes = single.local_nodes(Path::new("/tmp/state")).unwrap();
        assert_eq!((nodes[0].name.as_str(), nodes[0].component_name("dockerd")), ("box", "dockerd".to_string()));
        assert_eq!(single.labels_of(&nodes[0], &nodes).unwrap(), "disktype=ssd");
    }
}
