//! host-gw pod routing: every other node's pod CIDR is routed through that
//! node's InternalIP, and the forward path stays open for pod traffic.
//! Level-triggered: each pass compares the Nodes with the routes rk made
//! (tagged with its own route protocol) and fixes the difference.

use rk_client::Store;
use rk_proto::v1::Node;
use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How often routes are compared with the Nodes (the informer keeps those current).
const SYNC_PERIOD: Duration = Duration::from_secs(1);

/// Route protocol number marking rk's routes (`ip route ... proto 199`), so
/// only those are listed and removed.
const ROUTE_PROTO: &str = "199";
/// rk-kubelet's filter chain, jumped to from FORWARD; not `RK-`: rk-proxy owns every chain named so.
const FORWARD_CHAIN: &str = "RKPOD-FORWARD";
/// rk's nat chain, jumped to from POSTROUTING.
const MASQUERADE_CHAIN: &str = "RKPOD-MASQ";

#[derive(Debug, thiserror::Error)]
pub enum RoutesError {
    #[error("running {command}: {message}")]
    Command { command: String, message: String },
}

/// The node's routing table and packet filter, behind a trait so the sync is unit-testable.
pub trait HostNetwork: Send + Sync {
    /// rk's routes: pod CIDR → gateway address.
    fn routes(&self) -> Result<BTreeMap<String, String>, RoutesError>;
    fn replace_route(&self, cidr: &str, via: &str) -> Result<(), RoutesError>;
    fn delete_route(&self, cidr: &str) -> Result<(), RoutesError>;
    /// Accepts forwarded traffic from and to `pod_cidr`; masquerades what it
    /// sends outside `cluster_cidr` (when given).
    fn open_forwarding(&self, pod_cidr: &str, cluster_cidr: Option<&str>) -> Result<(), RoutesError>;
}

/// Other nodes' pod CIDRs and their InternalIPs (nodes lacking either are skipped).
pub fn wanted_routes(own_node: &str, nodes: &[Arc<Node>]) -> BTreeMap<String, String> {
    nodes
        .iter()
        .filter(|node| node.metadata.as_ref().map(|m| m.name.as_str()) != Some(own_node))
        .filter_map(|node| {
            let cidr = node.spec.as_ref().map(|spec| spec.pod_cidr.clone()).filter(|c| !c.is_empty())?;
            let address = node.status.as_ref()?.addresses.iter().find(|a| a.r#type == "InternalIP")?;
            (!address.address.is_empty()).then(|| (cidr, address.address.clone()))
        })
        .collect()
}

/// One pass: replaces missing or changed routes, deletes those of nodes that went away.
pub fn sync_routes(network: &dyn HostNetwork, wanted: &BTreeMap<String, String>) -> Result<(), RoutesError> {
    let current = network.routes()?;
    for (cidr, via) in wanted {
        if current.get(cidr) != Some(via) {
            tracing::info!(%cidr, %via, "routing pod CIDR");
            network.replace_route(cidr, via)?;
        }
    }
    for cidr in current.keys().filter(|cidr| !wanted.contains_key(*cidr)) {
        tracing::info!(%cidr, "removing the route of a node that went away");
        network.delete_route(cidr)?;
    }
    Ok(())
}

/// Watches every Node and keeps this node's routes to their pod CIDRs
/// (host-gw) with the real `ip` and `iptables`; abort the task to stop.
pub fn start(
    client: rk_client::Client,
    own_node: &str,
    pod_cidr: &str,
    cluster_cidr: Option<String>,
) -> JoinHandle<()> {
    let nodes = rk_client::Informer::<Node>::new(client, Default::default()).start();
    tokio::spawn(run(
        Arc::new(IpCommands),
        own_node.to_string(),
        pod_cidr.to_string(),
        cluster_cidr,
        nodes.store,
        SYNC_PERIOD,
    ))
}

/// Opens forwarding for `pod_cidr`, then keeps the routes in step with
/// `nodes` every `period` until the task is aborted.
pub async fn run(
    network: Arc<dyn HostNetwork>,
    own_node: String,
    pod_cidr: String,
    cluster_cidr: Option<String>,
    nodes: Arc<Store<Node>>,
    period: Duration,
) {
    let mut ticks = tokio::time::interval(period);
    let mut forwarding_open = false;
    loop {
        ticks.tick().await;
        if !forwarding_open {
            match network.open_forwarding(&pod_cidr, cluster_cidr.as_deref()) {
                Ok(()) => forwarding_open = true,
                Err(error) => tracing::warn!(%error, "opening the forward path for pods; retrying"),
            }
        }
        if let Err(error) = sync_routes(network.as_ref(), &wanted_routes(&own_node, &nodes.list())) {
            tracing::warn!(%error, "syncing pod routes; retrying");
        }
    }
}

/// The real host network: `ip` and `iptables -w`.
pub struct IpCommands;

fn run_command(program: &str, args: &[&str]) -> Result<String, RoutesError> {
    let command = format!("{program} {}", args.join(" "));
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| RoutesError::Command { command: command.clone(), message: e.to_string() })?;
    if !output.status.success() {
        let message = String::from_utf8_lossy(&output.stderr).trim().to_string();
        return Err(RoutesError::Command { command, message });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Adds `rule` to `table`'s `chain` unless it is there.
fn ensure_rule(table: &str, chain: &str, rule: &[&str]) -> Result<(), RoutesError> {
    let check = [&["-w", "-t", table, "-C", chain][..], rule].concat();
    if run_command("iptables", &check).is_ok() {
        return Ok(());
    }
    run_command("iptables", &[&["-w", "-t", table, "-A", chain][..], rule].concat()).map(|_| ())
}

/// Creates `chain` in `table`, or empties it: the pod CIDR may have changed.
fn fresh_chain(table: &str, chain: &str) -> Result<(), RoutesError> {
    if run_command("iptables", &["-w", "-t", table, "-N", chain]).is_err() {
        run_command("iptables", &["-w", "-t", table, "-F", chain])?;
    }
    Ok(())
}

impl HostNetwork for IpCommands {
    fn routes(&self) -> Result<BTreeMap<String, String>, RoutesError> {
        let listing = run_command("ip", &["-4", "route", "show", "proto", ROUTE_PROTO])?;
        Ok(parse_routes(&listing))
    }

    fn replace_route(&self, cidr: &str, via: &str) -> Result<(), RoutesError> {
        run_command("ip", &["route", "replace", cidr, "via", via, "proto", ROUTE_PROTO]).map(|_| ())
    }

    fn delete_route(&self, cidr: &str) -> Result<(), RoutesError> {
        run_command("ip", &["route", "del", cidr, "proto", ROUTE_PROTO]).map(|_| ())
    }

    fn open_forwarding(&self, pod_cidr: &str, cluster_cidr: Option<&str>) -> Result<(), RoutesError> {
        fresh_chain("filter", FORWARD_CHAIN)?;
        ensure_rule("filter", FORWARD_CHAIN, &["-s", pod_cidr, "-j", "ACCEPT"])?;
        ensure_rule("filter", FORWARD_CHAIN, &["-d", pod_cidr, "-j", "ACCEPT"])?;
        // Docker sets FORWARD's policy to DROP and keeps its own rules first:
        // the jump goes to the top, ahead of them.
        if run_command("iptables", &["-w", "-C", "FORWARD", "-j", FORWARD_CHAIN]).is_err() {
            run_command("iptables", &["-w", "-I", "FORWARD", "1", "-j", FORWARD_CHAIN])?;
        }
        if let Some(cluster_cidr) = cluster_cidr {
            fresh_chain("nat", MASQUERADE_CHAIN)?;
            ensure_rule("nat", MASQUERADE_CHAIN, &["-s", pod_cidr, "!", "-d", cluster_cidr, "-j", "MASQUERADE"])?;
            ensure_rule("nat", "POSTROUTING", &["-j", MASQUERADE_CHAIN])?;
        }
        Ok(())
    }
}

/// `10.244.1.0/24 via 10.199.0.3 dev eth0 proto 199` lines → CIDR → gateway.
fn parse_routes(listing: &str) -> BTreeMap<String, String> {
    listing
        .lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let via = words.iter().position(|w| *w == "via")?;
            Some((words.first()?.to_string(), words.get(via + 1)?.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::v1::{NodeAddress, NodeSpec, NodeStatus, ObjectMeta};
    use std::sync::Mutex;

    #[derive(Default)]
    struct FakeNetwork {
        table: Mutex<BTreeMap<String, String>>,
        calls: Mutex<Vec<String>>,
    }

    impl HostNetwork for FakeNetwork {
        fn routes(&self) -> Result<BTreeMap<String, String>, RoutesError> {
            Ok(self.table.lock().unwrap().clone())
        }
        fn replace_route(&self, cidr: &str, via: &str) -> Result<(), RoutesError> {
            self.calls.lock().unwrap().push(format!("replace {cidr} via {via}"));
            self.table.lock().unwrap().insert(cidr.into(), via.into());
            Ok(())
        }
        fn delete_route(&self, cidr: &str) -> Result<(), RoutesError> {
            self.calls.lock().unwrap().push(format!("delete {cidr}"));
            self.table.lock().unwrap().remove(cidr);
            Ok(())
        }
        fn open_forwarding(&self, _: &str, _: Option<&str>) -> Result<(), RoutesError> {
            Ok(())
        }
    }

    fn node(name: &str, cidr: &str, ip: &str) -> Arc<Node> {
        Arc::new(Node {
            metadata: Some(ObjectMeta { name: name.into(), ..Default::default() }),
            spec: Some(NodeSpec { pod_cidr: cidr.into(), ..Default::default() }),
            status: Some(NodeStatus {
                addresses: vec![NodeAddress { r#type: "InternalIP".into(), address: ip.into() }],
                ..Default::default()
            }),
            ..Default::default()
        })
    }

    #[test]
    fn other_nodes_with_a_cidr_and_an_address_are_routed_not_the_own_one() {
        let nodes = [
            node("node1", "10.244.0.0/24", "10.199.0.2"),
            node("node2", "10.244.1.0/24", "10.199.0.3"),
            node("node3", "", "10.199.0.4"),
            node("node4", "10.244.3.0/24", ""),
        ];
        let wanted = wanted_routes("node1", &nodes);
        assert_eq!(wanted, BTreeMap::from([("10.244.1.0/24".to_string(), "10.199.0.3".to_string())]));
    }

    #[test]
    fn sync_adds_changes_and_removes_routes_and_leaves_correct_ones_alone() {
        let network = FakeNetwork::default();
        network.table.lock().unwrap().extend([
            ("10.244.1.0/24".to_string(), "10.199.0.3".to_string()),
            ("10.244.2.0/24".to_string(), "10.199.0.9".to_string()),
            ("10.244.5.0/24".to_string(), "10.199.0.5".to_string()),
        ]);
        let wanted = BTreeMap::from([
            ("10.244.1.0/24".to_string(), "10.199.0.3".to_string()),
            ("10.244.2.0/24".to_string(), "10.199.0.4".to_string()),
            ("10.244.3.0/24".to_string(), "10.199.0.6".to_string()),
        ]);
        sync_routes(&network, &wanted).unwrap();
        assert_eq!(*network.table.lock().unwrap(), wanted);
        assert_eq!(
            *network.calls.lock().unwrap(),
            ["replace 10.244.2.0/24 via 10.199.0.4", "replace 10.244.3.0/24 via 10.199.0.6", "delete 10.244.5.0/24"]
        );
        network.calls.lock().unwrap().clear();
        sync_routes(&network, &wanted).unwrap();
        assert!(network.calls.lock().unwrap().is_empty(), "a second pass changes nothing");
    }

    #[test]
    fn ip_route_listings_are_parsed() {
        let listing =
            "10.244.1.0/24 via 10.199.0.3 dev eth0 proto 199 \n10.244.2.0/24 via 10.199.0.4 dev eth0 proto 199\n";
        assert_eq!(
            parse_routes(listing),
            BTreeMap::from([
                ("10.244.1.0/24".to_string(), "10.199.0.3".to_string()),
                ("10.244.2.0/24".to_string(), "10.199.0.4".to_string()),
            ])
        );
    }
}
