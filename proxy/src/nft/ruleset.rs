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
use std::collections::BTreeMap;
use std::sync::OnceLock;

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

/// Everything rk writes into its table, as a full sync writes it: a view of [`super::state::State`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ruleset<'a> {
    /// Chain name → its rules, in order (base chains included).
    pub chains: BTreeMap<&'a str, &'a [String]>,
    /// Map or set name → key → value (empty for sets), for the shared maps and sets.
    pub elements: BTreeMap<&'a str, BTreeMap<&'a str, &'a str>>,
    /// Affinity set name → its declaration (`{ type ...; }`); the kernel fills them.
    pub affinity_sets: BTreeMap<&'a str, &'a str>,
    /// Service port key → its block of endpoint slots (kept stable between syncs).
    pub blocks: BTreeMap<&'a str, u32>,
}

/// What one service port writes: chains, affinity sets and elements of the shared maps of its own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fragment {
    pub chains: Vec<(String, Vec<String>)>,
    pub affinity_sets: Vec<(String, String)>,
    /// (map or set, key, value); two ports may write the same key (a pod behind two services).
    pub elements: Vec<(&'static str, String, String)>,
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
                endpoint_map(protocol, shard).to_string(),
                format!("{{ typeof numgen random mod 1 : ip daddr . {p} dport; }}"),
            ));
        }
    }
    maps
}

/// The shared endpoint map (`<proto>-endpoints-<shard>`) holding `block`'s slots.
fn endpoint_map(protocol: Protocol, block: u32) -> &'static str {
    let names = ENDPOINT_MAPS.get_or_init(|| {
        let names =
            |p: Protocol| (0..SHARDS).map(move |shard| format!("{}-endpoints-{shard}", p.as_str()).leak() as &str);
        (names(Protocol::Tcp).collect(), names(Protocol::Udp).collect())
    });
    let shard = (block % SHARDS) as usize;
    match protocol {
        Protocol::Tcp => names.0[shard],
        Protocol::Udp => names.1[shard],
    }
}

/// The endpoint maps' names, made once per process.
static ENDPOINT_MAPS: OnceLock<(Vec<&'static str>, Vec<&'static str>)> = OnceLock::new();

/// Whether the port gets a block of endpoint slots (it has endpoints and no affinity).
pub fn needs_block(port: &ServicePortInfo) -> bool {
    !port.endpoints.is_empty() && port.affinity_seconds.is_none()
}

/// The fixed chains: hooks, dispatch, rejection, masquerading.
pub fn fixed(layout: &Layout) -> BTreeMap<String, Vec<String>> {
    let node = &layout.node;
    let node_ips = format!("{{ {} }}", node.node_ips.join(", "));
    let mut chains = BTreeMap::new();
    let mut chain = |name: &str, rules: Vec<String>| chains.insert(name.to_string(), rules);
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
    chains
}

/// The port's fragment; `block` is its block of endpoint slots when [`needs_block`].
pub fn fragment(port: &ServicePortInfo, block: Option<u32>) -> Fragment {
    let mut fragment = Fragment::default();
    match (port.endpoints.is_empty(), block) {
        (true, _) => reject(port, &mut fragment),
        (false, block) => add(port, block, &mut fragment),
    }
    fragment
}

fn add(port: &ServicePortInfo, block: Option<u32>, fragment: &mut Fragment) {
    let proto = port.protocol.as_str();
    let id = hash(&port.key);
    let svc = format!("svc-{id}");
    let elements = &mut fragment.elements;
    elements.push(("service-ips", format!("{} . {proto} . {}", port.cluster_ip, port.port), format!("goto {svc}")));
    if !port.external_ips.is_empty() || port.node_port != 0 {
        let ext = format!("ext-{id}");
        fragment.chains.push((ext.clone(), vec!["jump mark-for-masquerade".into(), format!("goto {svc}")]));
        for ip in &port.external_ips {
            elements.push(("service-ips", format!("{ip} . {proto} . {}", port.port), format!("goto {ext}")));
        }
        if port.node_port != 0 {
            elements.push(("service-nodeports", format!("{proto} . {}", port.node_port), format!("goto {ext}")));
        }
    }
    let endpoints = &port.endpoints[..port.endpoints.len().min(MAX_ENDPOINTS)];
    for endpoint in endpoints {
        elements.push(("hairpin", format!("{0} . {0}", endpoint.ip), String::new()));
    }
    let rules = match (port.affinity_seconds, block) {
        (Some(seconds), _) => affinity(port, seconds, fragment),
        (None, block) => {
            let block = block.expect("a port with endpoints and no affinity has a block");
            let map = endpoint_map(port.protocol, block);
            let base = block * MAX_ENDPOINTS as u32;
            for (slot, endpoint) in (base..).zip(endpoints) {
                elements.push((map, slot.to_string(), format!("{} . {}", endpoint.ip, endpoint.port)));
            }
            let count = endpoints.len();
            vec![format!("meta l4proto {proto} dnat ip to numgen random mod {count} offset {base} map @{map}")]
        }
    };
    fragment.chains.push((svc, rules));
}

/// ClientIP affinity: the endpoint whose set remembers the client, else
/// each with equal probability; the endpoint's chain remembers the client.
fn affinity(port: &ServicePortInfo, seconds: i32, fragment: &mut Fragment) -> Vec<String> {
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
        fragment.affinity_sets.push((set.clone(), declaration));
        fragment.chains.push((
            format!("sep-{id}"),
            vec![
                format!("update @{set} {{ ip saddr }}"),
                format!("meta l4proto {proto} dnat ip to {}", endpoint.address()),
            ],
        ));
    }
    rules
}

/// No ready endpoint: refuse at once instead of letting clients time out.
fn reject(port: &ServicePortInfo, fragment: &mut Fragment) {
    let proto = port.protocol.as_str();
    for ip in std::iter::once(&port.cluster_ip).chain(&port.external_ips) {
        let key = format!("{ip} . {proto} . {}", port.port);
        fragment.elements.push(("no-endpoint-services", key, "goto reject-chain".into()));
    }
    if port.node_port != 0 {
        let key = format!("{proto} . {}", port.node_port);
        fragment.elements.push(("no-endpoint-nodeports", key, "goto reject-chain".into()));
    }
}
