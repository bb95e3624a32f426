//! The pure nftables rule builder: service ports and the node's addresses
//! in; rk's chains, map elements and affinity sets out.
//!
//! Packet path (nat): prerouting/output → `services` (verdict map
//! `service-ips`: cluster IP → `svc-*`, external and LoadBalancer IPs →
//! `ext-*`; node addresses → `service-nodeports` → `ext-*`). `ext-*` marks
//! for masquerade and goes on to `svc-*`, which DNATs to an endpoint picked
//! with equal probability from the shared `<proto>-endpoints-<shard>` map,
//! or with ClientIP affinity, to the endpoint whose `affinity-*` set holds
//! the client (`sep-*` chains remember it). postrouting → `masquerading`:
//! marked traffic, hairpin (a pod reaching itself), and traffic to a
//! cluster IP from outside the pod network. filter (new connections):
//! `endpoints-check` rejects service addresses without ready endpoints.

use crate::chains::hash;
use crate::model::{Protocol, ServicePortInfo};
use crate::rules::{NodeConfig, MASQ_MARK};
use std::collections::{BTreeMap, BTreeSet};

/// Endpoint slots per service port (its block in the endpoint maps); more endpoints are left out.
pub const MAX_ENDPOINTS: usize = 1 << 12;
/// Endpoint maps per protocol: each is bound by about services/SHARDS rules.
pub const SHARDS: u32 = 256;

/// Base chains: name, type, hook, priority.
pub const BASE_CHAINS: [(&str, &str, &str, &str); 6] = [
    ("nat-prerouting", "nat", "prerouting", "dstnat"),
    ("nat-output", "nat", "output", "-100"),
    ("nat-postrouting", "nat", "postrouting", "srcnat"),
    // Before NAT, so a service address without endpoints is refused before anything rewrites it.
    ("filter-input", "filter", "input", "-110"),
    ("filter-forward", "filter", "forward", "-110"),
    ("filter-output", "filter", "output", "-110"),
];

/// What the rules depend on besides the services.
#[derive(Debug, Clone)]
pub struct Layout {
    pub node: NodeConfig,
    /// Traffic from outside the pod network to these addresses is masqueraded.
    pub service_cidr: String,
}

/// Everything rk writes into its table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ruleset {
    /// Chain name → its rules, in order (base chains included).
    pub chains: BTreeMap<String, Vec<String>>,
    /// Map or set name → key → value (empty for sets), for the shared maps and sets.
    pub elements: BTreeMap<String, BTreeMap<String, String>>,
    /// Affinity set name → its declaration (`{ type ...; }`); the kernel fills them.
    pub affinity_sets: BTreeMap<String, String>,
    /// Service port key → its block of endpoint slots (kept stable between syncs).
    pub blocks: BTreeMap<String, u32>,
}

/// The maps and sets every table has, with their declarations.
pub fn shared_maps() -> Vec<(String, String)> {
    let mut maps: Vec<(String, String)> = vec![
        ("service-ips".into(), "{ type ipv4_addr . inet_proto . inet_service : verdict; }".into()),
        ("service-nodeports".into(), "{ type inet_proto . inet_service : verdict; }".into()),
        ("no-endpoint-services".into(), "{ type ipv4_addr . inet_proto . inet_service : verdict; }".into()),
        ("no-endpoint-nodeports".into(), "{ type inet_proto . inet_service : verdict; }".into()),
        ("hairpin".into(), "{ type ipv4_addr . ipv4_addr; }".into()),
    ];
    for protocol in [Protocol::Tcp, Protocol::Udp] {
        let p = protocol.as_str();
        for shard in 0..SHARDS {
            maps.push((
                endpoint_map(protocol, shard),
                format!("{{ typeof numgen random mod 1 : ip daddr . {p} dport; }}"),
            ));
        }
    }
    maps
}

fn endpoint_map(protocol: Protocol, shard: u32) -> String {
    format!("{}-endpoints-{shard}", protocol.as_str())
}

/// Builds the ruleset; `previous` blocks are kept for the service ports that still have endpoints.
pub fn build(ports: &[ServicePortInfo], layout: &Layout, previous: &BTreeMap<String, u32>) -> Ruleset {
    let mut builder = Builder { ruleset: fixed(layout), used: BTreeSet::new(), free: 0 };
    for port in ports.iter().filter(|p| !p.endpoints.is_empty() && p.affinity_seconds.is_none()) {
        if let Some(block) = previous.get(&port.key) {
            builder.ruleset.blocks.insert(port.key.clone(), *block);
            builder.used.insert(*block);
        }
    }
    for port in ports {
        match port.endpoints.is_empty() {
            true => builder.reject(port),
            false => builder.add(port),
        }
    }
    builder.ruleset
}

fn fixed(layout: &Layout) -> Ruleset {
    let node = &layout.node;
    let node_ips = format!("{{ {} }}", node.node_ips.join(", "));
    let mut ruleset = Ruleset::default();
    let mut chain = |name: &str, rules: Vec<String>| ruleset.chains.insert(name.to_string(), rules);
    chain("nat-prerouting", vec!["jump services".into()]);
    chain("nat-output", vec!["jump services".into()]);
    chain("nat-postrouting", vec!["jump masquerading".into()]);
    for filter in ["filter-input", "filter-forward", "filter-output"] {
        chain(filter, vec!["ct state new jump endpoints-check".into()]);
    }
    chain(
        "endpoints-check",
        vec![
            "ip daddr . meta l4proto . th dport vmap @no-endpoint-services".into(),
            format!("ip daddr {node_ips} meta l4proto . th dport vmap @no-endpoint-nodeports"),
        ],
    );
    chain("reject-chain", vec!["meta l4proto tcp reject with tcp reset".into(), "reject".into()]);
    chain(
        "services",
        vec![
            "ip daddr . meta l4proto . th dport vmap @service-ips".into(),
            // Last, so a cluster IP always wins over a node port on the same number.
            format!("ip daddr {node_ips} meta l4proto . th dport vmap @service-nodeports"),
        ],
    );
    chain("mark-for-masquerade", vec![format!("meta mark set meta mark or {MASQ_MARK}")]);
    chain(
        "masquerading",
        vec![
            // Cleared so the packet is not masqueraded twice if it loops back through the node.
            format!("meta mark & {MASQ_MARK} == {MASQ_MARK} meta mark set meta mark xor {MASQ_MARK} masquerade"),
            // Hairpin: a pod reaching itself through a service must see the node as the source.
            "ct status dnat ip saddr . ip daddr @hairpin masquerade".into(),
            format!(
                "ct status dnat ct original ip daddr {} ip saddr != {} masquerade",
                layout.service_cidr, node.cluster_cidr
            ),
        ],
    );
    for (name, _) in shared_maps() {
        ruleset.elements.insert(name, BTreeMap::new());
    }
    ruleset
}

struct Builder {
    ruleset: Ruleset,
    used: BTreeSet<u32>,
    /// The lowest block that may be free.
    free: u32,
}

impl Builder {
    fn element(&mut self, map: &str, key: String, value: String) {
        self.ruleset.elements.entry(map.to_string()).or_default().insert(key, value);
    }

    fn block(&mut self, key: &str) -> u32 {
        if let Some(block) = self.ruleset.blocks.get(key) {
            return *block;
        }
        while self.used.contains(&self.free) {
            self.free += 1;
        }
        self.used.insert(self.free);
        self.ruleset.blocks.insert(key.to_string(), self.free);
        self.free
    }

    fn add(&mut self, port: &ServicePortInfo) {
        let proto = port.protocol.as_str();
        let id = hash(&port.key);
        let svc = format!("svc-{id}");
        self.element("service-ips", format!("{} . {proto} . {}", port.cluster_ip, port.port), format!("goto {svc}"));
        if !port.external_ips.is_empty() || port.node_port != 0 {
            let ext = format!("ext-{id}");
            self.ruleset.chains.insert(ext.clone(), vec!["jump mark-for-masquerade".into(), format!("goto {svc}")]);
            for ip in &port.external_ips {
                self.element("service-ips", format!("{ip} . {proto} . {}", port.port), format!("goto {ext}"));
            }
            if port.node_port != 0 {
                self.element("service-nodeports", format!("{proto} . {}", port.node_port), format!("goto {ext}"));
            }
        }
        let endpoints = &port.endpoints[..port.endpoints.len().min(MAX_ENDPOINTS)];
        for endpoint in endpoints {
            self.element("hairpin", format!("{0} . {0}", endpoint.ip), String::new());
        }
        let rules = match port.affinity_seconds {
            None => {
                let block = self.block(&port.key);
                let map = endpoint_map(port.protocol, block % SHARDS);
                let base = block * MAX_ENDPOINTS as u32;
                for (slot, endpoint) in (base..).zip(endpoints) {
                    self.element(&map, slot.to_string(), format!("{} . {}", endpoint.ip, endpoint.port));
                }
                let count = endpoints.len();
                vec![format!("meta l4proto {proto} dnat ip to numgen random mod {count} offset {base} map @{map}")]
            }
            Some(seconds) => self.affinity(port, seconds),
        };
        self.ruleset.chains.insert(svc, rules);
    }

    /// ClientIP affinity: the endpoint whose set remembers the client, else
    /// each with equal probability; the endpoint's chain remembers the client.
    fn affinity(&mut self, port: &ServicePortInfo, seconds: i32) -> Vec<String> {
        let proto = port.protocol.as_str();
        let endpoints = &port.endpoints[..port.endpoints.len().min(MAX_ENDPOINTS)];
        let ids: Vec<String> = endpoints.iter().map(|e| hash(&format!("{}>{}", port.key, e.address()))).collect();
        // The timeout is part of the set's name: a changed timeout makes a new set.
        let set = |id: &str| format!("affinity-{id}-{seconds}");
        let mut rules: Vec<String> = ids.iter().map(|id| format!("ip saddr @{} goto sep-{id}", set(id))).collect();
        let count = ids.len();
        for (index, id) in ids.iter().enumerate() {
            rules.push(match count - index {
                1 => format!("goto sep-{id}"),
                remaining => format!("numgen random mod {remaining} == 0 goto sep-{id}"),
            });
        }
        for (endpoint, id) in endpoints.iter().zip(&ids) {
            let set = set(id);
            let declaration = format!("{{ type ipv4_addr; flags dynamic,timeout; timeout {seconds}s; }}");
            self.ruleset.affinity_sets.insert(set.clone(), declaration);
            self.ruleset.chains.insert(
                format!("sep-{id}"),
                vec![
                    format!("update @{set} {{ ip saddr }}"),
                    format!("meta l4proto {proto} dnat ip to {}", endpoint.address()),
                ],
            );
        }
        rules
    }

    /// No ready endpoint: refuse at once instead of letting clients time out.
    fn reject(&mut self, port: &ServicePortInfo) {
        let proto = port.protocol.as_str();
        for ip in std::iter::once(&port.cluster_ip).chain(&port.external_ips) {
            self.element("no-endpoint-services", format!("{ip} . {proto} . {}", port.port), "goto reject-chain".into());
        }
        if port.node_port != 0 {
            self.element("no-endpoint-nodeports", format!("{proto} . {}", port.node_port), "goto reject-chain".into());
        }
    }
}
