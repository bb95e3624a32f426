//! The resources the scheduler accounts for (cpu and memory, plus the pod
//! count), read from pods' containers and nodes' allocatable quantities.

use rk_proto::v1::{Container, Node, Pod};
use std::collections::BTreeMap;
use std::ops::{AddAssign, SubAssign};

/// What least-allocated scoring counts for a container that requests no cpu,
/// so that pods without requests still spread (Kubernetes' value).
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// The memory counterpart of [`DEFAULT_MILLI_CPU_REQUEST`]: 200 MiB.
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 << 20;

/// An amount of cpu (millicores) and memory (bytes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resources {
    pub milli_cpu: i64,
    pub memory: i64,
}

impl AddAssign for Resources {
    fn add_assign(&mut self, other: Resources) {
        self.milli_cpu += other.milli_cpu;
        self.memory += other.memory;
    }
}

impl SubAssign for Resources {
    fn sub_assign(&mut self, other: Resources) {
        self.milli_cpu -= other.milli_cpu;
        self.memory -= other.memory;
    }
}

/// What a node offers to pods.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Allocatable {
    pub resources: Resources,
    pub pods: i64,
}

/// The sum of the pod's container requests. A container's limit stands in for
/// a missing request, as Kubernetes' defaulting does.
pub fn pod_requests(pod: &Pod) -> Resources {
    sum_containers(pod, |request, _| request)
}

/// Like [`pod_requests`], but a container that requests nothing of a resource
/// counts the default amount: used for scoring only, never for fitting.
pub fn non_zero_requests(pod: &Pod) -> Resources {
    sum_containers(pod, |request, default| if request == 0 { default } else { request })
}

fn sum_containers(pod: &Pod, adjust: impl Fn(i64, i64) -> i64) -> Resources {
    let mut total = Resources::default();
    for container in pod.spec.iter().flat_map(|spec| &spec.containers) {
        total.milli_cpu += adjust(container_request(container, "cpu", milli), DEFAULT_MILLI_CPU_REQUEST);
        total.memory += adjust(container_request(container, "memory", units), DEFAULT_MEMORY_REQUEST);
    }
    total
}

/// The container's request of `resource`, else its limit, else 0.
fn container_request(container: &Container, resource: &str, read: fn(&str) -> i64) -> i64 {
    let Some(resources) = &container.resources else { return 0 };
    resources.requests.get(resource).or_else(|| resources.limits.get(resource)).map_or(0, |text| read(text))
}

/// The node's allocatable cpu, memory and pod count; capacity stands in for a
/// missing allocatable value, and a missing resource offers nothing.
pub fn node_allocatable(node: &Node) -> Allocatable {
    let empty = BTreeMap::new();
    let (allocatable, capacity) = match &node.status {
        Some(status) => (&status.allocatable, &status.capacity),
        None => (&empty, &empty),
    };
    let amount = |resource: &str, read: fn(&str) -> i64| {
        allocatable.get(resource).or_else(|| capacity.get(resource)).map_or(0, |text| read(text))
    };
    Allocatable {
        resources: Resources { milli_cpu: amount("cpu", milli), memory: amount("memory", units) },
        pods: amount("pods", units),
    }
}

/// A quantity in thousandths (millicores for cpu); malformed text (which the
/// apiserver's validation rejects) counts as nothing.
fn milli(text: &str) -> i64 {
    rk_proto::quantity::parse(text).map_or(0, |q| clamp(q.milli))
}

/// A quantity in whole units, rounded up (bytes for memory).
fn units(text: &str) -> i64 {
    rk_proto::quantity::parse(text).map_or(0, |q| clamp(q.value()))
}

fn clamp(value: i128) -> i64 {
    value.clamp(0, i64::MAX as i128) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{container, node, pod_with_containers};

    #[test]
    fn requests_add_up_over_containers_and_limits_stand_in_for_missing_requests() {
        let pod = pod_with_containers(vec![
            container(&[("cpu", "250m"), ("memory", "64Mi")], &[("cpu", "1")]),
            container(&[], &[("cpu", "0.5"), ("memory", "1Gi")]),
        ]);
        assert_eq!(pod_requests(&pod), Resources { milli_cpu: 750, memory: (64 << 20) + (1 << 30) });
    }

    #[test]
    fn non_zero_requests_count_defaults_for_what_is_not_requested() {
        let pod = pod_with_containers(vec![container(&[("cpu", "300m")], &[]), container(&[], &[])]);
        assert_eq!(pod_requests(&pod), Resources { milli_cpu: 300, memory: 0 });
        assert_eq!(
            non_zero_requests(&pod),
            Resources { milli_cpu: 300 + DEFAULT_MILLI_CPU_REQUEST, memory: 2 * DEFAULT_MEMORY_REQUEST }
        );
    }

    #[test]
    fn allocatable_falls_back_to_capacity() {
        let mut n = node("n1", &[("cpu", "2"), ("memory", "4Gi"), ("pods", "110")]);
        let status = n.status.as_mut().unwrap();
        status.allocatable.remove("memory");
        status.capacity.insert("memory".into(), "8Gi".into());
        status.allocatable.insert("cpu".into(), "1500m".into());
        assert_eq!(
            node_allocatable(&n),
            Allocatable { resources: Resources { milli_cpu: 1500, memory: 8 << 30 }, pods: 110 }
        );
        assert_eq!(node_allocatable(&Node::default()), Allocatable::default());
    }
}
