//! rk-kubelet: the node agent. Registers this node, runs the pods bound to
//! it on Docker, and serves their logs and exec to the apiserver.

use anyhow::Context;
use clap::Parser;
use rk_client::daemon::{seconds_flag, shutdown_signal};
use rk_client::Client;
use rk_kubelet::config::KubeletConfig;
use rk_kubelet::kubelet::Kubelet;
use rk_kubelet::runtime::docker::DockerRuntime;
use rk_kubelet::runtime::ContainerRuntime;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser, Debug)]
#[command(name = "rk-kubelet", version, about = "rk's node agent: runs the pods bound to this node on Docker")]
struct Args {
    /// apiserver address.
    #[arg(long, env = "RK_SERVER", default_value = "127.0.0.1:6443")]
    server: String,
    /// This node's name (default: the hostname).
    #[arg(long, env = "RK_NODE_NAME")]
    node_name: Option<String>,
    /// Labels for this node: key=value,key=value.
    #[arg(long, env = "RK_NODE_LABELS", default_value = "", value_parser = parse_labels)]
    node_labels: BTreeMap<String, String>,
    /// This node's InternalIP: where the apiserver reaches the streaming endpoint.
    #[arg(long, env = "RK_NODE_IP", default_value = "127.0.0.1")]
    node_ip: String,
    /// Docker daemon to run pods on.
    #[arg(long, env = "DOCKER_HOST", default_value = "unix:///var/run/docker.sock")]
    docker_host: String,
    /// Container runtime: `docker`, or `fake` (pods go Running without containers; for scale tests).
    #[arg(long, default_value = "docker", value_parser = ["docker", "fake"])]
    runtime: String,
    /// Run this many hollow nodes (fake runtime) in this process, named `<node-name>-<i>`.
    #[arg(long, default_value_t = 0)]
    hollow_nodes: usize,
    /// Address of the streaming endpoint (logs, exec) the apiserver calls.
    #[arg(long, env = "RK_KUBELET_STREAMING_LISTEN", default_value = "0.0.0.0:10250")]
    streaming_listen: String,
    /// File holding the token the apiserver presents to the streaming endpoint.
    #[arg(long, env = "RK_KUBELET_TOKEN_FILE")]
    streaming_token_file: Option<PathBuf>,
    /// Address for HTTP /healthz and /metrics.
    #[arg(long, env = "RK_KUBELET_HEALTH_LISTEN", default_value = "127.0.0.1:10248")]
    health_listen: String,
    /// Where pod directories (emptyDir volumes) live.
    #[arg(long, env = "RK_KUBELET_ROOT_DIR", default_value = "/var/lib/rk-kubelet")]
    root_dir: PathBuf,
    /// Directory with the static rk-pause and rk-hello programs the project images are built from.
    #[arg(long, env = "RK_IMAGE_DIR", default_value = "/usr/lib/rk/images")]
    image_dir: PathBuf,
    /// Name of the Docker bridge network for this node's pod CIDR.
    #[arg(long, default_value = "rk-pods")]
    pod_network: String,
    /// Route other nodes' pod CIDRs through their InternalIPs (host-gw) and keep forwarding open
    /// for pods; pod-to-pod traffic is then not masqueraded (for nodes that share a network).
    #[arg(long)]
    pod_routes: bool,
    /// With --pod-routes: pod traffic to outside this range is masqueraded.
    #[arg(long)]
    cluster_cidr: Option<String>,
    /// Most pods this node runs.
    #[arg(long, default_value_t = 110)]
    max_pods: u32,
    /// Seconds between node status heartbeats.
    #[arg(long, default_value_t = 10.0)]
    node_status_update_frequency: f64,
    /// First crash-loop / image-pull back-off, seconds (doubles up to the maximum).
    #[arg(long, default_value_t = 10.0)]
    backoff_initial: f64,
    /// Longest crash-loop / image-pull back-off, seconds.
    #[arg(long, default_value_t = 300.0)]
    backoff_max: f64,
    /// Seconds between runtime relists (how soon a dead container is noticed).
    #[arg(long, default_value_t = 1.0)]
    relist_period: f64,
    /// Remove this node's containers, pod network and pod directories, then exit.
    #[arg(long)]
    cleanup: bool,
}

fn parse_labels(text: &str) -> Result<BTreeMap<String, String>, String> {
    text.split(',')
        .filter(|pair| !pair.trim().is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => Ok((key.trim().to_string(), value.trim().to_string())),
            _ => Err(format!("{pair:?} is not key=value (expected labels like disktype=ssd,zone=a)")),
        })
        .collect()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    rk_client::daemon::init_logging();
    let args = Args::parse();
    let node_name = match &args.node_name {
        Some(name) => name.clone(),
        None => rk_kubelet::node::addresses::hostname()?,
    };
    let mut config = kubelet_config(&args, &node_name)?;
    if args.cleanup {
        let docker = connect_docker(&args, &node_name).await?;
        let removed = rk_kubelet::cleanup::remove_everything(&config, &docker).await?;
        println!("removed {removed} containers and network {} of node {node_name}", config.pod_network);
        return Ok(());
    }
    let client = Client::connect(&args.server).await.with_context(|| format!("connecting to {}", args.server))?;
    if args.hollow_nodes > 0 {
        let hollow = rk_kubelet::hollow::run_hollow_nodes(args.hollow_nodes, config, client, shutdown_signal());
        start_status_server(&args).await?;
        hollow.await?;
        return Ok(());
    }
    let listener = tokio::net::TcpListener::bind(&args.streaming_listen)
        .await
        .with_context(|| format!("binding the streaming endpoint {}", args.streaming_listen))?;
    config.streaming_port = listener.local_addr()?.port();
    let runtime: Arc<dyn ContainerRuntime> = match args.runtime.as_str() {
        "fake" => Arc::new(rk_kubelet::runtime::fake::FakeRuntime::new()),
        _ => {
            let docker = connect_docker(&args, &node_name).await?.with_pod_masquerade(!args.pod_routes);
            docker.ensure_project_images(&args.image_dir).await.context("building rk's own images")?;
            Arc::new(docker)
        }
    };
    let token = match &args.streaming_token_file {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("reading the streaming token from {}", path.display()))?
            .trim()
            .to_string(),
        None => String::new(),
    };
    // The transfer service refuses a final pass while a running container here uses the dataset.
    let dataset_settings = rk_kubelet::datasets::DatasetSettings { users: Default::default(), token: token.clone() };
    let users = Arc::clone(&dataset_settings.users);
    let datasets = Arc::new(
        rk_kubelet::datasets::transfer::RootDirSource::new(rk_kubelet::datasets::paths::datasets_root(
            &config.root_dir,
        ))
        .with_in_use(move |key| users.in_use(key)),
    );
    tokio::spawn(rk_kubelet::streaming::serve_with_datasets(
        listener,
        Arc::clone(&runtime),
        token,
        Some(datasets),
        std::future::pending(),
    ));
    let kubelet = Kubelet::start_with_datasets(config, runtime, client, dataset_settings).await?;
    // Healthy once the node is registered and pods are being synced.
    start_status_server(&args).await?;
    shutdown_signal().await;
    kubelet.stop();
    Ok(())
}

fn kubelet_config(args: &Args, node_name: &str) -> anyhow::Result<KubeletConfig> {
    let mut config = KubeletConfig::new(node_name);
    config.node_labels = args.node_labels.clone();
    config.node_ip = args.node_ip.clone();
    config.max_pods = args.max_pods;
    config.heartbeat_period = seconds_flag(args.node_status_update_frequency, "node-status-update-frequency")?;
    config.pod_network = args.pod_network.clone();
    config.pod_routes = args.pod_routes;
    config.cluster_cidr = args.cluster_cidr.clone();
    config.root_dir = args.root_dir.clone();
    config.backoff_initial = seconds_flag(args.backoff_initial, "backoff-initial")?;
    config.backoff_max = seconds_flag(args.backoff_max, "backoff-max")?;
    config.relist_period = seconds_flag(args.relist_period, "relist-period")?;
    Ok(config)
}

async fn connect_docker(args: &Args, node_name: &str) -> anyhow::Result<DockerRuntime> {
    DockerRuntime::connect(&args.docker_host, node_name)
        .await
        .with_context(|| format!("connecting to Docker at {}", args.docker_host))
}

async fn start_status_server(args: &Args) -> anyhow::Result<()> {
    rk_client::status_server::start(&args.health_listen, Arc::new(String::new))
        .await
        .with_context(|| format!("binding {}", args.health_listen))
}
