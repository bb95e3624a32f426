//! Nodes of varied labels and sizes, and pods with varied node selectors and
//! requests, every one of which fits somewhere. Deterministic by index.

use rk_proto::v1::{Node, Pod};
use rk_scheduler::testing::{labelled_node, owned_by, pod, with_node_selector};

const ZONES: [&str; 4] = ["zone-a", "zone-b", "zone-c", "zone-d"];
const CPUS: [u32; 4] = [4, 8, 16, 32];
const MILLI_CPU_REQUESTS: [u32; 4] = [100, 200, 250, 500];
const MEMORY_REQUESTS_MI: [u32; 3] = [128, 256, 512];
/// Pods per (simulated) replication controller, for the spreading score.
const PODS_PER_CONTROLLER: usize = 100;

/// Node `i`: zone by `i % 4`, an ssd on every third node, 4 to 32 cpus with 2 GiB per cpu, 110 pods.
pub fn node(i: usize) -> Node {
    let cpus = CPUS[(i / 4) % CPUS.len()];
    let (cpu, memory) = (cpus.to_string(), format!("{}Gi", cpus * 2));
    let disk = if i.is_multiple_of(3) { "ssd" } else { "spinning" };
    let name = format!("node-{i:05}");
    labelled_node(
        &name,
        &[
            ("topology.kubernetes.io/zone", ZONES[i % ZONES.len()]),
            ("disktype", disk),
            ("kubernetes.io/hostname", &name),
        ],
        &[("cpu", &cpu), ("memory", &memory), ("pods", "110")],
    )
}

/// Pod `i`: 40% without a node selector, 30% pinned to a zone, 20% to ssd
/// nodes, 10% to ssd nodes of one zone; 100m-500m cpu, 128-512 MiB.
pub fn pod_for(i: usize) -> Pod {
    let cpu = format!("{}m", MILLI_CPU_REQUESTS[(i / 10) % MILLI_CPU_REQUESTS.len()]);
    let memory = format!("{}Mi", MEMORY_REQUESTS_MI[(i / 3) % MEMORY_REQUESTS_MI.len()]);
    let base = owned_by(
        pod(&format!("pod-{i:06}"), &[("cpu", &cpu), ("memory", &memory)], &[]),
        &format!("controller-{}", i / PODS_PER_CONTROLLER),
    );
    let zone = ("topology.kubernetes.io/zone", ZONES[(i / 7) % ZONES.len()]);
    match i % 10 {
        0..=3 => base,
        4..=6 => with_node_selector(base, &[zone]),
        7..=8 => with_node_selector(base, &[("disktype", "ssd")]),
        _ => with_node_selector(base, &[zone, ("disktype", "ssd")]),
    }
}
