//! Routes for LoadBalancer addresses (`--load-balancer-ip-range`), as the
//! network in front of bare-metal nodes would have them. Every node takes
//! the range as local (`ip route replace local <cidr> dev lo src <node ip>`),
//! so rk-proxy's rules catch an ingress IP from the node itself as well as
//! from its pods, and an address no Service holds is refused on the node
//! instead of following a default route off the machine. With nodes in
//! namespaces the host routes the range to all of them (one flow keeps to
//! one node), so the host reaches an ingress IP as a client in front of a
//! load balancer would.

use super::components::UpArgs;
use super::netns::ip;
use rk_proto::ip_range::IpRange;
use std::path::Path;

/// The single node on the host's network uses this as its address (as rk-proxy's `--node-ip`).
const HOST_NODE_IP: &str = "127.0.0.1";

/// The range's CIDR blocks; checked before anything starts, like the controller manager checks it.
pub fn blocks(args: &UpArgs) -> anyhow::Result<Vec<String>> {
    let range: IpRange = args.load_balancer_ip_range.parse()?;
    Ok(range.cidrs())
}

/// Adds the routes; run after the nodes' network exists. Safe to run again.
pub fn route(args: &UpArgs, state_dir: &Path) -> anyhow::Result<()> {
    for block in blocks(args)? {
        match (args.node.nodes, args.node.network(state_dir)?) {
            (0, _) => {}
            (_, None) => ip(&["route", "replace", "local", &block, "dev", "lo", "src", HOST_NODE_IP])?,
            (nodes, Some(network)) => {
                let mut to_nodes = vec!["route".to_string(), "replace".into(), block.clone()];
                for k in 1..=nodes {
                    let address = network.node_address(k).to_string();
                    ip(&["-n", &network.netns(k), "route", "replace", "local", &block, "dev", "lo", "src", &address])?;
                    to_nodes.extend(["nexthop".into(), "via".into(), address]);
                }
                ip(&to_nodes.iter().map(String::as_str).collect::<Vec<_>>())?;
            }
        }
    }
    Ok(())
}

/// Removes the host's routes (a node's go with its namespace); what is gone already is skipped.
pub fn unroute(args: &UpArgs, state_dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut removed = Vec::new();
    let (Ok(blocks), true) = (blocks(args), args.node.nodes > 0) else { return Ok(removed) };
    let local = args.node.network(state_dir)?.is_none();
    for block in blocks {
        let del: &[&str] =
            if local { &["route", "del", "local", &block, "dev", "lo"] } else { &["route", "del", &block] };
        if ip(del).is_ok() {
            removed.push(format!("route {block}"));
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_range_is_refused_before_anything_starts() {
        let args = UpArgs { load_balancer_ip_range: "198.18.255.0".into(), ..UpArgs::default() };
        let error = blocks(&args).unwrap_err().to_string();
        assert!(error.contains("neither an IPv4 CIDR like 198.18.255.0/24"), "{error}");
        let args = UpArgs { load_balancer_ip_range: "198.18.255.10-198.18.255.13".into(), ..UpArgs::default() };
        assert_eq!(blocks(&args).unwrap(), ["198.18.255.10/31", "198.18.255.12/31"]);
    }
}
