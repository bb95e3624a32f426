//! rk-proxy: the per-node service proxy. Watches Services and Endpoints and
//! programs iptables or nftables so cluster IPs, node ports and external IPs reach pods.

use anyhow::Context;
use clap::Parser;
use rk_client::daemon::{seconds_flag, shutdown_signal};
use rk_client::{Client, Informer};
use rk_proto::v1::{Endpoints, ListOptions, Service};
use rk_proxy::applier::{Backend, Iptables};
use rk_proxy::chains::ChainNames;
use rk_proxy::dataplane::{Dataplane, IptablesDataplane};
use rk_proxy::host::Host;
use rk_proxy::nft::applier::Nft;
use rk_proxy::nft::ruleset::Layout;
use rk_proxy::nft::NftDataplane;
use rk_proxy::proxier::Proxier;
use rk_proxy::rules::NodeConfig;
use rk_proxy::sync_loop::SyncLoop;
use std::net::Ipv4Addr;
use std::sync::Arc;
use tokio::sync::Notify;

#[derive(Parser, Debug)]
#[command(
    name = "rk-proxy",
    version,
    about = "rk's service proxy: programs iptables or nftables for Services on this node"
)]
struct Args {
    /// apiserver address.
    #[arg(long, env = "RK_SERVER", default_value = "127.0.0.1:6443")]
    server: String,
    /// This node's name (for logs).
    #[arg(long, env = "RK_NODE_NAME", default_value = "")]
    node_name: String,
    /// The node's addresses, comma-separated: node ports answer on them (and on 127.0.0.1);
    /// the first is the source of the node's own connections to service IPs.
    #[arg(long, env = "RK_NODE_IP", default_value = "127.0.0.1", value_delimiter = ',', value_parser = parse_ip)]
    node_ip: Vec<String>,
    /// The service CIDR: routed locally so service IPs never leave the machine.
    #[arg(long, env = "RK_SERVICE_CLUSTER_IP_RANGE", default_value = "10.96.0.0/16", value_parser = parse_cidr)]
    service_cluster_ip_range: String,
    /// The pod network: traffic to services from outside it is masqueraded.
    #[arg(long, env = "RK_CLUSTER_CIDR", default_value = "10.244.0.0/16", value_parser = parse_cidr)]
    cluster_cidr: String,
    /// Address for HTTP /healthz and /metrics.
    #[arg(long, env = "RK_PROXY_HEALTH_LISTEN", default_value = "127.0.0.1:10256")]
    health_listen: String,
    /// Seconds at least between syncs: a burst of changes becomes one sync.
    #[arg(long, default_value_t = 1.0)]
    min_sync_period: f64,
    /// Seconds between full resyncs (every chain rewritten).
    #[arg(long, default_value_t = 30.0)]
    sync_period: f64,
    /// `nftables` (one table of rk's own) or `iptables` (chains in the nat and filter tables).
    #[arg(long, env = "RK_PROXY_MODE", default_value = "nftables")]
    mode: String,
    /// First word of every chain this proxy owns, and in lower case the name of its nftables
    /// table (one proxy per prefix per network namespace).
    #[arg(long, env = "RK_PROXY_CHAIN_PREFIX", default_value = "RK")]
    chain_prefix: String,
    /// iptables programs: `system` (`iptables-restore`, as Docker uses) or `legacy` (`iptables-legacy-restore`).
    #[arg(long, env = "RK_PROXY_IPTABLES_BACKEND", default_value = "system")]
    iptables_backend: String,
    /// Remove every rule, chain and route this proxy installed, then exit.
    #[arg(long)]
    cleanup: bool,
}

fn parse_ip(text: &str) -> Result<String, String> {
    text.parse::<Ipv4Addr>()
        .map(|ip| ip.to_string())
        .map_err(|_| format!("{text:?} is not an IPv4 address (expected like 10.0.0.5)"))
}

fn parse_cidr(text: &str) -> Result<String, String> {
    let bad = || format!("{text:?} is not an IPv4 CIDR (expected like 10.96.0.0/16)");
    let (ip, bits) = text.split_once('/').ok_or_else(bad)?;
    ip.parse::<Ipv4Addr>().map_err(|_| bad())?;
    bits.parse::<u8>().ok().filter(|bits| *bits <= 32).ok_or_else(bad)?;
    Ok(text.to_string())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    rk_client::daemon::init_logging();
    let args = Args::parse();
    let mut node_ips = args.node_ip.clone();
    if !node_ips.iter().any(|ip| ip == "127.0.0.1") {
        node_ips.push("127.0.0.1".into());
    }
    let node =
        NodeConfig { names: ChainNames::new(&args.chain_prefix)?, node_ips, cluster_cidr: args.cluster_cidr.clone() };
    let (dataplane, removed): (Box<dyn Dataplane>, String) = match args.mode.as_str() {
        "iptables" => {
            let iptables = Iptables { runner: Default::default(), backend: Backend::parse(&args.iptables_backend)? };
            (
                Box::new(IptablesDataplane::new(node.clone(), Arc::new(iptables))),
                format!("{}-* chains", args.chain_prefix),
            )
        }
        "nftables" => {
            let table = rk_proxy::nft::dataplane::table_name(&node.names);
            let layout = Layout { node: node.clone(), service_cidr: args.service_cluster_ip_range.clone() };
            (Box::new(NftDataplane::new(layout, Arc::new(Nft::default()))), format!("nftables table ip {table}"))
        }
        other => anyhow::bail!("invalid --mode {other:?}: use iptables or nftables"),
    };
    let mut proxier = Proxier::new(node, &args.service_cluster_ip_range, dataplane, Arc::new(Host::default()));
    if args.cleanup {
        proxier.cleanup().context("cleaning up rk-proxy's rules and route")?;
        println!("removed rk-proxy's {removed} and the route of {}", args.service_cluster_ip_range);
        return Ok(());
    }
    let (min_sync, full_sync) =
        (seconds_flag(args.min_sync_period, "min-sync-period")?, seconds_flag(args.sync_period, "sync-period")?);
    let client = Client::connect(&args.server).await.with_context(|| format!("connecting to {}", args.server))?;
    let changed = Arc::new(Notify::new());
    let (on_service, on_endpoints) = (Arc::clone(&changed), Arc::clone(&changed));
    let services = Informer::<Service>::new(client.clone(), ListOptions::default())
        .on_change(move |_| on_service.notify_one())
        .start();
    let endpoints = Informer::<Endpoints>::new(client, ListOptions::default())
        .on_change(move |_| on_endpoints.notify_one())
        .start();
    let metrics = Arc::clone(&proxier.metrics);
    rk_client::status_server::start(&args.health_listen, Arc::new(move || metrics.render()))
        .await
        .with_context(|| format!("binding {}", args.health_listen))?;
    tracing::info!(node = %args.node_name, prefix = %args.chain_prefix, mode = %args.mode, "rk-proxy running");
    let sync_loop = SyncLoop { services, endpoints, changed, min_sync, full_sync };
    sync_loop.run(proxier, shutdown_signal()).await;
    Ok(())
}
