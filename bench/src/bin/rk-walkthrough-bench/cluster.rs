//! The cluster under test: `rkctl cluster up --nodes 2` with the release
//! binaries next to this bench, in a temporary state directory, on free
//! ports and leased address ranges (pods, the node bridge, LoadBalancer
//! IPs). Dropping it (also on an error or Ctrl-C) brings a cut link back up
//! and runs `rkctl cluster down`.

use anyhow::{bail, Context};
use rk_bench::{progress, release};
use rk_client::Client;
use rk_testkit::{free_port, lease_cluster_cidr, CidrLease};
use std::process::{Command, Stdio};
use tokio::io::AsyncWriteExt;

pub struct Cluster {
    dir: tempfile::TempDir,
    pub server: String,
    /// Pod CIDRs, the node bridge's subnet, LoadBalancer ingress IPs: held until the cluster is down.
    leases: [CidrLease; 3],
    /// The cluster's id in the names `up` gives its bridge (`rk<id>`), links and namespaces.
    id: String,
}

impl Cluster {
    /// Two nodes, node1 `disktype=spinning` and node2 `disktype=ssd`, with
    /// the node-lifecycle timeouts `grace` and `eviction` (seconds).
    pub async fn up(grace: u64, eviction: u64) -> anyhow::Result<Cluster> {
        let dir = tempfile::Builder::new().prefix("rk-walkthrough-bench-").tempdir().context("creating a state dir")?;
        let leases = [lease_cluster_cidr(), lease_cluster_cidr(), lease_cluster_cidr()];
        let api_port = free_port();
        let mut cluster = Cluster { dir, server: format!("127.0.0.1:{api_port}"), leases, id: String::new() };
        let mut args = vec![
            "cluster".to_string(),
            "up".to_string(),
            "--nodes=2".to_string(),
            "--node-labels=node1:disktype=spinning".to_string(),
            "--node-labels=node2:disktype=ssd".to_string(),
            format!("--node-monitor-grace-period={grace}"),
            format!("--pod-eviction-timeout={eviction}"),
            // Heartbeats well inside the grace period (the default 10 s would make nodes flap).
            "--kubelet-arg=--node-status-update-frequency=2".to_string(),
            format!("--cluster-cidr={}", cluster.leases[0].cidr()),
            format!("--node-subnet={}", cluster.leases[1].subnet(0)),
            format!("--load-balancer-ip-range={}", cluster.load_balancer_range()),
            format!("--kubelet-port={}", free_port()),
            format!("--kubelet-health-port={}", free_port()),
            format!("--proxy-health-port={}", free_port()),
        ];
        args.extend(release::control_plane_ports(api_port));
        let spinner = progress::spinner("rkctl cluster up --nodes 2");
        let up = cluster.rkctl(&args.iter().map(String::as_str).collect::<Vec<_>>(), None).await;
        spinner.finish_and_clear();
        up?;
        cluster.id = bridge_id(&cluster.leases[1].gateway(0))?;
        Ok(cluster)
    }

    /// Runs rkctl against the cluster (with `stdin` when given); its stdout, or an error with its output.
    pub async fn rkctl(&self, args: &[&str], stdin: Option<&str>) -> anyhow::Result<String> {
        let mut child = release::rkctl(self.dir.path())?
            .args(args)
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("running rkctl")?;
        if let Some(text) = stdin {
            let mut pipe = child.stdin.take().context("rkctl's stdin")?;
            pipe.write_all(text.as_bytes()).await?;
        }
        let output = child.wait_with_output().await?;
        if !output.status.success() {
            bail!(
                "rkctl {} failed: {}{}",
                args.join(" "),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    pub async fn client(&self) -> anyhow::Result<Client> {
        Client::connect(&self.server).await.with_context(|| format!("connecting to the apiserver at {}", self.server))
    }

    pub fn state_dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Node `k`'s address on the bridge (the host has the first address of the subnet).
    pub fn node_address(&self, k: u8) -> String {
        let gateway = self.leases[1].gateway(0);
        let (network, host) = gateway.rsplit_once('.').expect("an IPv4 address");
        format!("{network}.{}", host.parse::<u8>().expect("an octet") + k)
    }

    /// The range LoadBalancer Services take their ingress IPs from.
    pub fn load_balancer_range(&self) -> String {
        self.leases[2].subnet(0)
    }

    /// The network namespace node `k` runs in.
    pub fn netns(&self, k: u8) -> String {
        format!("rk-{}-node{k}", self.id)
    }

    /// The Docker daemon of node `k`.
    pub fn docker_host(&self, k: u8) -> String {
        format!("unix://{}", self.dir.path().join(format!("node{k}/docker.sock")).display())
    }

    /// Brings the host's end of node `k`'s link down (the node is cut off) or up.
    pub fn set_link(&self, k: u8, up: bool) -> anyhow::Result<()> {
        let link = format!("rk{}n{k}", self.id);
        let state = if up { "up" } else { "down" };
        let status = Command::new("ip").args(["link", "set", &link, state]).status().context("running ip")?;
        if !status.success() {
            bail!("ip link set {link} {state} failed");
        }
        Ok(())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if !self.id.is_empty() {
            let _ = self.set_link(2, true);
        }
        release::cluster_down(self.dir.path());
    }
}

/// The id in the name of the bridge holding `gateway` (`rk<id>`).
fn bridge_id(gateway: &str) -> anyhow::Result<String> {
    let output = Command::new("ip").args(["-o", "-4", "addr", "show", "to", gateway]).output()?;
    let listing = String::from_utf8_lossy(&output.stdout);
    let name = listing.split_whitespace().nth(1).unwrap_or_default();
    match name.strip_prefix("rk") {
        Some(id) if !id.is_empty() => Ok(id.to_string()),
        _ => bail!("no rk bridge holds {gateway}: {listing:?}"),
    }
}
