//! The pure rule builder: service ports and the node's addresses in, rk's
//! chains and their rules out (nat and filter tables).
//!
//! Packet path (nat): PREROUTING/OUTPUT → SERVICES → SVC (one per service
//! port; picks an endpoint with equal random probability, or the one a
//! ClientIP remembers) → SEP (one per endpoint; DNAT). Node ports go
//! SERVICES → NODEPORTS → SVC. Traffic that needs its source rewritten
//! (from outside the pod network, to node ports and external IPs, or a pod
//! reaching itself) is marked in MARK-MASQ and masqueraded in POSTROUTING.
//! filter: SERVICES rejects service addresses without ready endpoints.

use crate::chains::ChainNames;
use crate::model::{Protocol, ServicePortInfo};
use std::collections::BTreeMap;

/// The packet mark meaning "masquerade this" (Kubernetes uses the same bit).
pub const MASQ_MARK: &str = "0x4000";

/// Per table, per chain, the chain's rules in order (`-A CHAIN ...` lines).
pub type Tables = BTreeMap<&'static str, BTreeMap<String, Vec<String>>>;

pub const TABLES: [&str; 2] = ["filter", "nat"];

/// What the rules depend on besides the services.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub names: ChainNames,
    /// Addresses node ports answer on (127.0.0.1 included for local clients).
    pub node_ips: Vec<String>,
    /// The pod network: traffic from elsewhere to a cluster IP is masqueraded.
    pub cluster_cidr: String,
}

pub fn build(ports: &[ServicePortInfo], node: &NodeConfig) -> Tables {
    let mut builder = Builder::new(node);
    for port in ports {
        builder.add(port);
    }
    builder.finish()
}

struct Builder<'a> {
    node: &'a NodeConfig,
    nat: BTreeMap<String, Vec<String>>,
    filter: BTreeMap<String, Vec<String>>,
}

impl<'a> Builder<'a> {
    fn new(node: &'a NodeConfig) -> Self {
        let names = &node.names;
        let mut nat = BTreeMap::new();
        let masq = names.mark_masq();
        let post = names.postrouting();
        nat.insert(names.services(), Vec::new());
        nat.insert(names.node_ports(), Vec::new());
        nat.insert(masq.clone(), vec![format!("-A {masq} -j MARK --or-mark {MASQ_MARK}")]);
        nat.insert(
            post.clone(),
            vec![
                format!("-A {post} -m mark ! --mark {MASQ_MARK}/{MASQ_MARK} -j RETURN"),
                // Cleared so the packet is not masqueraded twice if it loops back through the node.
                format!("-A {post} -j MARK --xor-mark {MASQ_MARK}"),
                format!("-A {post} -m comment --comment \"rk service traffic requiring SNAT\" -j MASQUERADE"),
            ],
        );
        let mut filter = BTreeMap::new();
        filter.insert(names.services(), Vec::new());
        Builder { node, nat, filter }
    }

    fn nat_rule(&mut self, chain: &str, rule: String) {
        self.nat.entry(chain.to_string()).or_default().push(format!("-A {chain} {rule}"));
    }

    fn add(&mut self, port: &ServicePortInfo) {
        let names = &self.node.names;
        let proto = port.protocol.as_str();
        let key = &port.key;
        let (services, node_ports, masq) = (names.services(), names.node_ports(), names.mark_masq());
        if port.endpoints.is_empty() {
            return self.reject(port);
        }
        let svc = names.service(key);
        let match_port = |ip: &str, port_number: i32| format!("-d {ip}/32 -p {proto} -m {proto} --dport {port_number}");
        self.nat_rule(
            &services,
            format!("{} -m comment --comment \"{key} cluster IP\" -j {svc}", match_port(&port.cluster_ip, port.port)),
        );
        for ip in &port.external_ips {
            let matched = match_port(ip, port.port);
            self.nat_rule(&services, format!("{matched} -m comment --comment \"{key} external IP\" -j {masq}"));
            self.nat_rule(&services, format!("{matched} -m comment --comment \"{key} external IP\" -j {svc}"));
        }
        if port.node_port != 0 {
            let matched = format!("-p {proto} -m {proto} --dport {}", port.node_port);
            self.nat_rule(&node_ports, format!("{matched} -m comment --comment \"{key}\" -j {masq}"));
            self.nat_rule(&node_ports, format!("{matched} -m comment --comment \"{key}\" -j {svc}"));
        }
        self.service_chain(port, &svc);
    }

    /// Picks an endpoint: the one a ClientIP used recently, else each with equal probability.
    fn service_chain(&mut self, port: &ServicePortInfo, svc: &str) {
        let names = self.node.names.clone();
        let proto = port.protocol.as_str();
        let masq = names.mark_masq();
        self.nat.insert(svc.to_string(), Vec::new());
        self.nat_rule(
            svc,
            format!(
                "! -s {} -d {}/32 -p {proto} -m {proto} --dport {} -j {masq}",
                self.node.cluster_cidr, port.cluster_ip, port.port
            ),
        );
        let seps: Vec<String> = port.endpoints.iter().map(|e| names.endpoint(&port.key, &e.address())).collect();
        if let Some(seconds) = port.affinity_seconds {
            for sep in &seps {
                self.nat_rule(svc, format!("-m recent --name {sep} --mask 255.255.255.255 --rsource --rcheck --seconds {seconds} --reap -j {sep}"));
            }
        }
        let count = seps.len();
        for (index, sep) in seps.iter().enumerate() {
            let remaining = count - index;
            let pick = match remaining {
                1 => String::new(),
                _ => format!("-m statistic --mode random --probability {:.10} ", 1.0 / remaining as f64),
            };
            self.nat_rule(svc, format!("{pick}-j {sep}"));
        }
        for (endpoint, sep) in port.endpoints.iter().zip(&seps) {
            self.nat.insert(sep.clone(), Vec::new());
            // Hairpin: a pod reaching itself through the service must see the node as the source.
            self.nat_rule(sep, format!("-s {}/32 -j {masq}", endpoint.ip));
            let remember = match port.affinity_seconds {
                Some(_) => format!("-m recent --name {sep} --mask 255.255.255.255 --rsource --set "),
                None => String::new(),
            };
            self.nat_rule(
                sep,
                format!("-p {proto} -m {proto} {remember}-j DNAT --to-destination {}", endpoint.address()),
            );
        }
    }

    /// No ready endpoint: refuse at once instead of letting clients time out.
    fn reject(&mut self, port: &ServicePortInfo) {
        let proto = port.protocol.as_str();
        let services = self.node.names.services();
        let with = match port.protocol {
            Protocol::Tcp => "tcp-reset",
            Protocol::Udp => "icmp-port-unreachable",
        };
        let mut targets: Vec<(String, i32)> = vec![(port.cluster_ip.clone(), port.port)];
        targets.extend(port.external_ips.iter().map(|ip| (ip.clone(), port.port)));
        if port.node_port != 0 {
            targets.extend(self.node.node_ips.iter().map(|ip| (ip.clone(), port.node_port)));
        }
        let rules = self.filter.entry(services.clone()).or_default();
        for (ip, number) in targets {
            rules.push(format!(
                "-A {services} -d {ip}/32 -p {proto} -m {proto} --dport {number} -m comment --comment \"{} has no endpoints\" -j REJECT --reject-with {with}",
                port.key
            ));
        }
    }

    fn finish(mut self) -> Tables {
        let (services, node_ports) = (self.node.names.services(), self.node.names.node_ports());
        // Last, so a cluster IP rule always wins over a node port on the same number.
        for ip in self.node.node_ips.clone() {
            self.nat_rule(&services, format!("-d {ip}/32 -j {node_ports}"));
        }
        Tables::from([("filter", self.filter), ("nat", self.nat)])
    }
}
