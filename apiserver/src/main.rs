//! rk-apiserver: serves rk's API over gRPC, storing everything in etcd.

use anyhow::Context;
use clap::Parser;
use rk_apiserver::storage::etcd::EtcdStorage;
use rk_apiserver::{serve, KubeletCredential, ServerConfig};
use std::sync::Arc;

// Serving lists and watches is allocation-heavy (decode, clone, encode of many
// small objects): jemalloc spends a fraction of glibc malloc's time on it, and
// its background thread hands memory freed after a large LIST back to the OS.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options: return unused memory within a second rather than ten.
static JEMALLOC_OPTIONS: [u8; 60] = *b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

/// The C string jemalloc reads its options from at start-up (a thin pointer).
#[allow(non_upper_case_globals)]
#[export_name = "_rjem_malloc_conf"]
pub static malloc_conf: Option<&u8> = Some(&JEMALLOC_OPTIONS[0]);

#[derive(Parser, Debug)]
#[command(name = "rk-apiserver", version, about = "rk's API server: the only process that talks to etcd")]
struct Args {
    /// etcd client URLs, comma-separated.
    #[arg(long, env = "RK_ETCD_SERVERS", default_value = "http://127.0.0.1:2379", value_delimiter = ',')]
    etcd_servers: Vec<String>,
    /// Addresses for the gRPC API, comma-separated (e.g. loopback and the cluster network's).
    #[arg(long, env = "RK_APISERVER_LISTEN", default_value = "127.0.0.1:6443", value_delimiter = ',')]
    listen: Vec<String>,
    /// Address for HTTP /healthz, /readyz and /metrics.
    #[arg(long, env = "RK_APISERVER_HEALTH_LISTEN", default_value = "127.0.0.1:6480")]
    health_listen: String,
    /// CIDR that Service cluster IPs are allocated from.
    #[arg(long, default_value = "10.96.0.0/16")]
    service_cluster_ip_range: String,
    /// Range node ports are allocated from, like 30000-32767.
    #[arg(long, default_value = "30000-32767")]
    service_node_port_range: String,
    /// Events kept per kind so watches can resume from a recent resourceVersion.
    #[arg(long, default_value_t = 5000)]
    watch_cache_size: usize,
    /// File holding the bearer token presented to kubelets for logs and exec (none: those calls fail).
    #[arg(long, env = "RK_KUBELET_TOKEN_FILE")]
    kubelet_token_file: Option<std::path::PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    rk_client::daemon::init_logging();
    let args = Args::parse();
    let node_port_range = parse_port_range(&args.service_node_port_range)?;
    let kubelet_credential = args.kubelet_token_file.as_deref().map(read_kubelet_token).transpose()?;
    let storage = EtcdStorage::connect(&args.etcd_servers)
        .await
        .with_context(|| format!("connecting to etcd at {}", args.etcd_servers.join(",")))?;
    let mut grpc = Vec::new();
    for address in &args.listen {
        grpc.push(tokio::net::TcpListener::bind(address).await.with_context(|| format!("binding {address}"))?);
    }
    let http = tokio::net::TcpListener::bind(&args.health_listen)
        .await
        .with_context(|| format!("binding {}", args.health_listen))?;
    tracing::info!(grpc = %args.listen.join(","), http = %args.health_listen, "rk-apiserver serving");
    let config = ServerConfig {
        service_cluster_ip_range: args.service_cluster_ip_range,
        node_port_range,
        watch_cache_size: args.watch_cache_size,
        kubelet_credential,
    };
    serve(Arc::new(storage), config, grpc, http, rk_client::daemon::shutdown_signal()).await?;
    tracing::info!("rk-apiserver stopped");
    Ok(())
}

fn parse_port_range(text: &str) -> anyhow::Result<(u32, u32)> {
    let (first, last) = text
        .split_once('-')
        .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)))
        .with_context(|| format!("--service-node-port-range {text:?}: expected FIRST-LAST, like 30000-32767"))?;
    Ok((first, last))
}

fn read_kubelet_token(path: &std::path::Path) -> anyhow::Result<KubeletCredential> {
    let token = std::fs::read_to_string(path).with_context(|| format!("--kubelet-token-file {}", path.display()))?;
    KubeletCredential::new(&token).map_err(|e| anyhow::anyhow!("--kubelet-token-file {}: {e}", path.display()))
}
