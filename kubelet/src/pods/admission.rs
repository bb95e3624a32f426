//! Admission: the kubelet runs a pod only if it fits the node, checked with
//! the scheduler's own filters against the pods this kubelet already runs.
//! A pod that does not fit fails at once with a reason, as in Kubernetes.

use rk_proto::v1::{Node, Pod, PodStatus};
use rk_scheduler::plugins::{fits, Reason};

/// Why the pod was refused: the pod status reason and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub reason: String,
    pub message: String,
}

pub fn admit<'a>(pod: &Pod, node: &Node, admitted: impl IntoIterator<Item = &'a Pod>) -> Result<(), Rejection> {
    let reasons = fits(pod, node, admitted).err().unwrap_or_default();
    let Some(first) = reasons.first() else { return Ok(()) };
    let reason = match first {
        Reason::InsufficientCpu => "OutOfcpu",
        Reason::InsufficientMemory => "OutOfmemory",
        Reason::TooManyPods => "OutOfpods",
        Reason::NodeSelectorMismatch | Reason::DatasetPrimaryMismatch => "NodeAffinity",
        Reason::PortsInUse => "HostPortConflict",
        Reason::NotReady | Reason::Unschedulable => "NodeNotReady",
    };
    let why: Vec<&str> = reasons.iter().map(|r| r.message()).collect();
    Err(Rejection { reason: reason.to_string(), message: format!("Pod was rejected by the node: {}", why.join(", ")) })
}

/// The status of a refused pod: Failed, with the reason and message.
pub fn rejected_status(pod: &Pod, rejection: &Rejection) -> PodStatus {
    let mut status = pod.status.clone().unwrap_or_default();
    status.phase = "Failed".into();
    status.reason = rejection.reason.clone();
    status.message = rejection.message.clone();
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::v1::{Container, NodeCondition, NodeStatus, ObjectMeta, PodSpec, ResourceRequirements};

    fn node(cpu: &str) -> Node {
        let capacity = [("cpu", cpu), ("memory", "1Gi"), ("pods", "10")].map(|(k, v)| (k.to_string(), v.to_string()));
        Node {
            metadata: Some(ObjectMeta { name: "n1".into(), ..Default::default() }),
            status: Some(NodeStatus {
                allocatable: capacity.clone().into(),
                capacity: capacity.into(),
                conditions: vec![NodeCondition { r#type: "Ready".into(), status: "True".into(), ..Default::default() }],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn pod(name: &str, cpu: &str) -> Pod {
        let mut resources = ResourceRequirements::default();
        resources.requests.insert("cpu".into(), cpu.into());
        Pod {
            metadata: Some(ObjectMeta { name: name.into(), namespace: "default".into(), ..Default::default() }),
            spec: Some(PodSpec {
                node_name: "n1".into(),
                containers: vec![Container { name: "c".into(), resources: Some(resources), ..Default::default() }],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_pod_that_fits_is_admitted() {
        assert_eq!(admit(&pod("a", "500m"), &node("1"), [&pod("b", "500m")]), Ok(()));
    }

    #[test]
    fn a_pod_over_the_node_cpu_is_rejected_with_out_of_cpu() {
        let rejection = admit(&pod("a", "600m"), &node("1"), [&pod("b", "500m")]).unwrap_err();
        assert_eq!(rejection.reason, "OutOfcpu");
        assert!(rejection.message.contains("Insufficient cpu"), "{}", rejection.message);
        let status = rejected_status(&pod("a", "600m"), &rejection);
        assert_eq!((status.phase.as_str(), status.reason.as_str()), ("Failed", "OutOfcpu"));
    }
}
