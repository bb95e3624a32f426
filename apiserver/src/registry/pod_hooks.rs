//! Pod deletion: a pod running on a node is deleted gracefully, the kubelet
//! stops its containers and then finishes the deletion with grace period 0.

use super::hooks::Hooks;
use rk_proto::v1::Pod;

/// Kubernetes' default terminationGracePeriodSeconds.
const DEFAULT_GRACE_SECONDS: i64 = 30;

pub struct PodHooks;

impl Hooks<Pod> for PodHooks {
    fn grace_period(&self, pod: &Pod, requested: Option<i64>) -> Option<i64> {
        let spec = pod.spec.as_ref()?;
        let phase = pod.status.as_ref().map(|s| s.phase.as_str()).unwrap_or("");
        // Nothing runs for an unbound or finished pod: remove it at once.
        if spec.node_name.is_empty() || matches!(phase, "Succeeded" | "Failed") {
            return None;
        }
        let seconds = requested.or(spec.termination_grace_period_seconds).unwrap_or(DEFAULT_GRACE_SECONDS);
        (seconds > 0).then_some(seconds)
    }
}
