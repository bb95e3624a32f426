//! The network of a multi-node local cluster: each node a network namespace
//! `rk-<id>-node<K>` joined by a veth pair to the host bridge `rk<id>` on the
//! node subnet, with no route beyond it. The host forwards between nodes
//! through its own filter chain (Docker sets FORWARD's policy to DROP and
//! its bridge netfilter would drop the bridged frames otherwise).
//! Everything made here carries `rk` and the cluster's id in its name.

use anyhow::Context;
use std::hash::{Hash, Hasher};
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;

/// Interface of a node inside its namespace.
const NODE_INTERFACE: &str = "rk0";

pub struct NodeNetwork {
    /// Six hex digits from the state directory: one cluster's names never clash with another's.
    id: String,
    network: Ipv4Addr,
    prefix: u8,
}

impl NodeNetwork {
    /// The network of the cluster whose state is in `state_dir`, on `subnet` (IPv4 CIDR).
    pub fn new(state_dir: &Path, subnet: &str) -> anyhow::Result<NodeNetwork> {
        let (network, prefix) = parse_subnet(subnet)?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        state_dir.hash(&mut hasher);
        Ok(NodeNetwork { id: format!("{:06x}", hasher.finish() as u32 & 0xff_ffff), network, prefix })
    }

    pub fn bridge(&self) -> String {
        format!("rk{}", self.id)
    }

    /// The host's address on the bridge: where nodes reach the control plane.
    pub fn host_address(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network) + 1)
    }

    /// Node `k` (1-based) has the `k+1`-th address of the subnet.
    pub fn node_address(&self, k: u8) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network) + 1 + u32::from(k))
    }

    pub fn netns(&self, k: u8) -> String {
        format!("rk-{}-node{k}", self.id)
    }

    /// What `nsenter --net=` takes to run a program on node `k`.
    pub fn netns_path(&self, k: u8) -> String {
        format!("/run/netns/{}", self.netns(k))
    }

    fn host_veth(&self, k: u8) -> String {
        format!("rk{}n{k}", self.id)
    }

    fn chain(&self) -> String {
        format!("RKNODES-{}", self.id)
    }

    /// Checks that `nodes` nodes and the host fit in the subnet.
    pub fn check_fits(&self, nodes: u8) -> anyhow::Result<()> {
        let addresses = 1u64 << (32 - u32::from(self.prefix));
        // Network address, host, nodes, broadcast.
        if u64::from(nodes) + 3 > addresses {
            anyhow::bail!(
                "--node-subnet {}/{} has room for {} nodes, not {nodes}",
                self.network,
                self.prefix,
                addresses.saturating_sub(3)
            );
        }
        Ok(())
    }

    /// Makes the bridge, the forward rules and nodes 1..=`nodes`; what exists already is kept.
    pub fn set_up(&self, nodes: u8) -> anyhow::Result<()> {
        self.check_fits(nodes)?;
        let bridge = self.bridge();
        let cidr = format!("{}/{}", self.host_address(), self.prefix);
        if !link_exists(&bridge) {
            ip(&["link", "add", &bridge, "type", "bridge"])?;
            ip(&["addr", "add", &cidr, "dev", &bridge])?;
        }
        ip(&["link", "set", &bridge, "up"])?;
        self.open_forwarding()?;
        for k in 1..=nodes {
            self.set_up_node(k)?;
        }
        Ok(())
    }

    fn set_up_node(&self, k: u8) -> anyhow::Result<()> {
        let (netns, veth) = (self.netns(k), self.host_veth(k));
        if !Path::new(&self.netns_path(k)).exists() {
            ip(&["netns", "add", &netns])?;
        }
        if !link_exists(&veth) {
            ip(&["link", "add", &veth, "type", "veth", "peer", "name", NODE_INTERFACE, "netns", &netns])?;
            let address = format!("{}/{}", self.node_address(k), self.prefix);
            ip(&["-n", &netns, "addr", "add", &address, "dev", NODE_INTERFACE])?;
        }
        ip(&["link", "set", &veth, "master", &self.bridge(), "up"])?;
        ip(&["-n", &netns, "link", "set", "lo", "up"])?;
        // Only the node subnet is routed: no default route, nothing leaves the machine.
        ip(&["-n", &netns, "link", "set", NODE_INTERFACE, "up"])
    }

    fn open_forwarding(&self) -> anyhow::Result<()> {
        let (chain, bridge) = (self.chain(), self.bridge());
        if iptables(&["-N", &chain]).is_ok() {
            iptables(&["-A", &chain, "-i", &bridge, "-o", &bridge, "-j", "ACCEPT"])?;
        }
        if iptables(&["-C", "FORWARD", "-j", &chain]).is_err() {
            iptables(&["-I", "FORWARD", "1", "-j", &chain])?;
        }
        Ok(())
    }

    /// Removes every namespace, veth, the bridge and the rules of this
    /// cluster; what is already gone is skipped. Run after the nodes' processes stopped.
    pub fn tear_down(&self) -> anyhow::Result<Vec<String>> {
        let mut removed = Vec::new();
        let prefix = format!("rk-{}-node", self.id);
        let listing = Command::new("ip").args(["netns", "list"]).output().context("running ip netns list")?;
        for netns in String::from_utf8_lossy(&listing.stdout).lines().filter_map(|line| line.split_whitespace().next())
        {
            if netns.starts_with(&prefix) {
                // Its end of each veth goes with it, and so does the host's.
                ip(&["netns", "delete", netns])?;
                removed.push(format!("network namespace {netns}"));
            }
        }
        if link_exists(&self.bridge()) {
            ip(&["link", "delete", &self.bridge()])?;
            removed.push(format!("bridge {}", self.bridge()));
        }
        let chain = self.chain();
        while iptables(&["-C", "FORWARD", "-j", &chain]).is_ok() {
            iptables(&["-D", "FORWARD", "-j", &chain])?;
        }
        if iptables(&["-F", &chain]).is_ok() {
            iptables(&["-X", &chain])?;
            removed.push(format!("iptables chain {chain}"));
        }
        Ok(removed)
    }
}

fn parse_subnet(subnet: &str) -> anyhow::Result<(Ipv4Addr, u8)> {
    let invalid = || format!("--node-subnet {subnet:?} is not an IPv4 CIDR like 10.199.0.0/24");
    let (address, prefix) = subnet.split_once('/').with_context(invalid)?;
    let address: Ipv4Addr = address.parse().ok().with_context(invalid)?;
    let prefix: u8 = prefix
        .parse()
        .ok()
        .filter(|p| (8..=29).contains(p))
        .with_context(|| format!("--node-subnet {subnet:?}: the prefix length must be between 8 and 29"))?;
    let mask = u32::MAX << (32 - u32::from(prefix));
    let network = Ipv4Addr::from(u32::from(address) & mask);
    // The machine's own subnet and Docker's default bridge must never be shadowed.
    for (reserved, reserved_prefix) in [(Ipv4Addr::new(192, 0, 2, 0), 24u8), (Ipv4Addr::new(172, 17, 0, 0), 16)] {
        let shorter = prefix.min(reserved_prefix);
        let shorter_mask = u32::MAX << (32 - u32::from(shorter));
        if u32::from(network) & shorter_mask == u32::from(reserved) & shorter_mask {
            anyhow::bail!("--node-subnet {subnet} overlaps {reserved}/{reserved_prefix}, which this machine uses");
        }
    }
    Ok((network, prefix))
}

fn link_exists(name: &str) -> bool {
    Command::new("ip").args(["link", "show", "dev", name]).output().is_ok_and(|out| out.status.success())
}

pub(super) fn ip(args: &[&str]) -> anyhow::Result<()> {
    run("ip", args)
}

fn iptables(args: &[&str]) -> anyhow::Result<()> {
    run("iptables", &[&["-w"][..], args].concat())
}

fn run(program: &str, args: &[&str]) -> anyhow::Result<()> {
    let output = Command::new(program).args(args).output().with_context(|| format!("running {program}"))?;
    if !output.status.success() {
        anyhow::bail!("{program} {} failed: {}", args.join(" "), String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_linux_interface_names_and_addresses_follow_the_subnet() {
        let network = NodeNetwork::new(Path::new("/tmp/some/state"), "10.199.0.0/24").unwrap();
        assert!(network.bridge().len() <= 15 && network.host_veth(3).len() <= 15);
        assert!(network.bridge().starts_with("rk") && network.netns(2).starts_with("rk-"));
        assert_eq!(network.host_address(), Ipv4Addr::new(10, 199, 0, 1));
        assert_eq!(network.node_address(1), Ipv4Addr::new(10, 199, 0, 2));
        assert_eq!(network.node_address(3), Ipv4Addr::new(10, 199, 0, 4));
    }

    #[test]
    fn bad_and_reserved_subnets_are_refused() {
        let state = Path::new("/tmp/state");
        for (subnet, message) in [
            ("10.199.0.0", "not an IPv4 CIDR"),
            ("10.199.0.0/30", "between 8 and 29"),
            ("192.0.2.0/24", "overlaps 192.0.2.0/24"),
            ("172.16.0.0/12", "overlaps 172.17.0.0/16"),
        ] {
            let error = NodeNetwork::new(state, subnet).err().unwrap().to_string();
            assert!(error.contains(message), "{subnet}: {error}");
        }
        let small = NodeNetwork::new(state, "10.199.0.0/29").unwrap();
        assert!(small.check_fits(5).is_ok());
        assert!(small.check_fits(6).unwrap_err().to_string().contains("room for 5 nodes"));
    }
}
