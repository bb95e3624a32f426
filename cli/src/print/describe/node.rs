//! `describe node`, with the pods on it and what they request of its capacity.

use super::events::write_events;
use super::writer::{timestamp, Writer};
use super::{Describe, DescribeContext};
use crate::print::age::age;
use crate::print::columns::node_roles;
use crate::print::format::or_none;
use rk_proto::quantity;
use rk_proto::v1::{Node, Pod};
use rk_proto::Resource;
use std::collections::BTreeMap;

/// The resources whose requests and limits describe totals.
const TOTALLED: [&str; 3] = ["cpu", "memory", "ephemeral-storage"];

impl Describe for Node {
    fn describe(&self, ctx: &DescribeContext<'_>) -> String {
        let meta = self.metadata();
        let spec = self.spec.clone().unwrap_or_default();
        let status = self.status.clone().unwrap_or_default();
        let mut w = Writer::for_object(self);
        w.line(0, format_args!("Roles:\t{}", or_none(&node_roles(self).join(","))));
        w.labels_and_annotations(meta);
        w.line(0, format_args!("CreationTimestamp:\t{}", timestamp(&meta.creation_timestamp)));
        w.line(0, format_args!("Unschedulable:\t{}", spec.unschedulable));
        if !status.conditions.is_empty() {
            w.line(0, format_args!("Conditions:"));
            w.line(1, format_args!("Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage"));
            w.line(1, format_args!("----\t------\t-----------------\t------------------\t------\t-------"));
            for c in &status.conditions {
                let (heartbeat, transition) = (timestamp(&c.last_heartbeat_time), timestamp(&c.last_transition_time));
                w.line(
                    1,
                    format_args!(
                        "{} \t{} \t{heartbeat} \t{transition} \t{} \t{}",
                        c.r#type, c.status, c.reason, c.message
                    ),
                );
            }
        }
        w.line(0, format_args!("Addresses:"));
        for address in &status.addresses {
            w.line(1, format_args!("{}:\t{}", address.r#type, address.address));
        }
        for (title, list) in [("Capacity", &status.capacity), ("Allocatable", &status.allocatable)] {
            if !list.is_empty() {
                w.line(0, format_args!("{title}:"));
                for (name, value) in list {
                    w.line(1, format_args!("{name}:\t{value}"));
                }
            }
        }
        let info = status.node_info.clone().unwrap_or_default();
        w.line(0, format_args!("System Info:"));
        for (key, value) in [
            ("Machine ID", &info.machine_id),
            ("System UUID", &info.system_uuid),
            ("Boot ID", &info.boot_id),
            ("Kernel Version", &info.kernel_version),
            ("OS Image", &info.os_image),
            ("Operating System", &info.operating_system),
            ("Architecture", &info.architecture),
            ("Container Runtime Version", &info.container_runtime_version),
            ("Kubelet Version", &info.kubelet_version),
            ("Kube-Proxy Version", &info.kube_proxy_version),
        ] {
            w.line(1, format_args!("{key}:\t{value}"));
        }
        w.line_if_set(0, "PodCIDR", &spec.pod_cidr);
        w.line_if_set(0, "ProviderID", &spec.provider_id);
        // kubectl weighs against allocatable, or capacity when a node reports no allocatable.
        let allocatable = if status.allocatable.is_empty() { &status.capacity } else { &status.allocatable };
        write_pods(&mut w, ctx, &Totals::of_list(allocatable));
        write_events(&mut w, ctx.events, ctx.now);
        w.finish()
    }
}

fn write_pods(w: &mut Writer, ctx: &DescribeContext<'_>, allocatable: &Totals) {
    let pods: Vec<&Pod> = ctx
        .pods
        .iter()
        .filter(|p| !matches!(p.status.as_ref().map(|s| s.phase.as_str()), Some("Succeeded" | "Failed")))
        .collect();
    w.line(0, format_args!("Non-terminated Pods:\t({} in total)", pods.len()));
    // The doubled tab is kubectl's: an empty column after Name.
    w.line(1, format_args!("Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAGE"));
    w.line(1, format_args!("---------\t----\t\t------------\t----------\t---------------\t-------------\t---"));
    let (mut requests, mut limits) = (Totals::default(), Totals::default());
    for pod in &pods {
        let (req, lim) = Totals::of_pod(pod);
        let cell = |totals: &Totals, name: &str| totals.share(name, allocatable);
        let meta = pod.metadata();
        w.line(
            1,
            format_args!(
                "{}\t{}\t\t{}\t{}\t{}\t{}\t{}",
                meta.namespace,
                meta.name,
                cell(&req, "cpu"),
                cell(&lim, "cpu"),
                cell(&req, "memory"),
                cell(&lim, "memory"),
                age(&meta.creation_timestamp, ctx.now)
            ),
        );
        requests.add(&req);
        limits.add(&lim);
    }
    w.line(0, format_args!("Allocated resources:"));
    w.line(1, format_args!("(Total limits may be over 100 percent, i.e., overcommitted.)"));
    w.line(1, format_args!("Resource\tRequests\tLimits"));
    w.line(1, format_args!("--------\t--------\t------"));
    for name in TOTALLED {
        w.line(1, format_args!("{name}\t{}\t{}", requests.share(name, allocatable), limits.share(name, allocatable)));
    }
}

/// Quantities by resource name, in thousandths of a unit.
#[derive(Debug, Default, PartialEq, Eq)]
struct Totals(BTreeMap<String, i128>);

impl Totals {
    fn of_list(list: &BTreeMap<String, String>) -> Self {
        let parsed = list.iter().filter_map(|(name, q)| Some((name.clone(), quantity::parse(q).ok()?.milli)));
        Totals(parsed.collect())
    }

    /// A pod's requests and limits: the sums over its containers.
    fn of_pod(pod: &Pod) -> (Totals, Totals) {
        let (mut requests, mut limits) = (Totals::default(), Totals::default());
        for container in pod.spec.iter().flat_map(|s| &s.containers) {
            let resources = container.resources.clone().unwrap_or_default();
            requests.add(&Totals::of_list(&resources.requests));
            limits.add(&Totals::of_list(&resources.limits));
        }
        (requests, limits)
    }

    fn add(&mut self, other: &Totals) {
        for (name, milli) in &other.0 {
            *self.0.entry(name.clone()).or_default() += milli;
        }
    }

    fn get(&self, name: &str) -> i128 {
        self.0.get(name).copied().unwrap_or(0)
    }

    /// `250m (12%)`: the amount and its share of what the node has, truncated as kubectl does.
    fn share(&self, name: &str, allocatable: &Totals) -> String {
        let (amount, of) = (self.get(name), allocatable.get(name));
        let percent = if of == 0 { 0 } else { amount * 100 / of };
        format!("{} ({percent}%)", format_quantity(name, amount))
    }
}

/// A total in Kubernetes notation: cpu in cores or millicores (`2`, `250m`); other resources
/// in bytes with the exact binary or decimal suffix that reads shortest (`192Mi`, `2G`).
fn format_quantity(name: &str, milli: i128) -> String {
    if name == "cpu" {
        return if milli % 1000 == 0 { (milli / 1000).to_string() } else { format!("{milli}m") };
    }
    let bytes = quantity::Quantity { milli }.value();
    if bytes == 0 {
        return "0".to_string();
    }
    let binary =
        [("Ei", 60), ("Pi", 50), ("Ti", 40), ("Gi", 30), ("Mi", 20), ("Ki", 10)].map(|(s, shift)| (s, 1i128 << shift));
    let decimal = [("E", 18), ("P", 15), ("T", 12), ("G", 9), ("M", 6), ("k", 3)].map(|(s, exp)| (s, 10i128.pow(exp)));
    let largest = |units: &[(&str, i128)]| {
        units.iter().find(|(_, unit)| bytes % unit == 0).map(|(suffix, unit)| format!("{}{suffix}", bytes / unit))
    };
    // The shorter of the two notations; binary on a tie, as memory is usually given in Mi/Gi.
    [largest(&binary), largest(&decimal), Some(bytes.to_string())]
        .into_iter()
        .flatten()
        .min_by_key(String::len)
        .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::v1::{
        Container, NodeAddress, NodeCondition, NodeStatus, NodeSystemInfo, ObjectMeta, PodSpec, PodStatus,
        ResourceRequirements,
    };

    #[test]
    fn quantities() {
        assert_eq!(format_quantity("cpu", 250), "250m");
        assert_eq!(format_quantity("cpu", 2000), "2");
        assert_eq!(format_quantity("cpu", 0), "0");
        assert_eq!(format_quantity("memory", 192 * 1024 * 1024 * 1000), "192Mi");
        assert_eq!(format_quantity("memory", 2_000_000_000_000), "2G");
        assert_eq!(format_quantity("memory", 1_500_000), "1500");
        assert_eq!(format_quantity("memory", 0), "0");
    }

    fn pod(name: &str, phase: &str, cpu: &str, memory: &str) -> Pod {
        let requests = [("cpu".to_string(), cpu.to_string()), ("memory".to_string(), memory.to_string())].into();
        Pod {
            metadata: Some(ObjectMeta { name: name.into(), namespace: "default".into(), ..Default::default() }),
            spec: Some(PodSpec {
                containers: vec![Container {
                    resources: Some(ResourceRequirements { requests, ..Default::default() }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            status: Some(PodStatus { phase: phase.into(), ..Default::default() }),
            ..Default::default()
        }
    }

    #[test]
    fn node_with_pods() {
        let node = Node {
            metadata: Some(ObjectMeta {
                name: "node-1".into(),
                creation_timestamp: "2024-01-01T00:00:00Z".into(),
                ..Default::default()
            }),
            status: Some(NodeStatus {
                capacity: [("cpu".to_string(), "2".to_string()), ("memory".to_string(), "1Gi".to_string())].into(),
                conditions: vec![NodeCondition {
                    r#type: "Ready".into(),
                    status: "True".into(),
                    last_heartbeat_time: "2024-01-01T00:00:00Z".into(),
                    last_transition_time: "2024-01-01T00:00:00Z".into(),
                    reason: "RkletReady".into(),
                    message: "rklet is posting ready status".into(),
                }],
                addresses: vec![NodeAddress { r#type: "InternalIP".into(), address: "10.0.0.1".into() }],
                node_info: Some(NodeSystemInfo { kubelet_version: "v1.20.0".into(), ..Default::default() }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let pods = [
            pod("a", "Running", "500m", "256Mi"),
            pod("b", "Running", "250m", "128Mi"),
            pod("c", "Succeeded", "1", "1Gi"),
        ];
        let ctx = DescribeContext {
            pods: &pods,
            ..crate::print::describe::bare_context(rk_proto::time::parse("2024-01-01T00:00:00Z").unwrap())
        };
        let out = node.describe(&ctx);
        let expected = "\
Name:               node-1
Roles:              <none>
Labels:             <none>
Annotations:        <none>
CreationTimestamp:  Mon, 01 Jan 2024 00:00:00 +0000
Unschedulable:      false
Conditions:
  Type    Status  LastHeartbeatTime                 LastTransitionTime                Reason       Message
  ----    ------  -----------------                 ------------------                ------       -------
  Ready   True    Mon, 01 Jan 2024 00:00:00 +0000   Mon, 01 Jan 2024 00:00:00 +0000   RkletReady   rklet is posting ready status
Addresses:
  InternalIP:  10.0.0.1
Capacity:
  cpu:     2
  memory:  1Gi
System Info:
  Machine ID:
  System UUID:
  Boot ID:
  Kernel Version:
  OS Image:
  Operating System:
  Architecture:
  Container Runtime Version:
  Kubelet Version:            v1.20.0
  Kube-Proxy Version:
Non-terminated Pods:          (2 in total)
  Namespace                   Name    CPU Requests  CPU Limits  Memory Requests  Memory Limits  AGE
  ---------                   ----    ------------  ----------  ---------------  -------------  ---
  default                     a       500m (25%)    0 (0%)      256Mi (25%)      0 (0%)         <unknown>
  default                     b       250m (12%)    0 (0%)      128Mi (12%)      0 (0%)         <unknown>
Allocated resources:
  (Total limits may be over 100 percent, i.e., overcommitted.)
  Resource           Requests     Limits
  --------           --------     ------
  cpu                750m (37%)   0 (0%)
  memory             384Mi (37%)  0 (0%)
  ephemeral-storage  0 (0%)       0 (0%)
";
        assert_eq!(out, expected);
    }
}
