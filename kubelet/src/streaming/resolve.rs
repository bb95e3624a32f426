//! Which runtime container a logs or exec call is about: the newest instance
//! of the named container of the pod, or the one before it for `previous`.

use crate::runtime::ContainerInfo;
use tonic::Status;

/// A container of a pod, as a call names it.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub namespace: &'a str,
    pub pod: &'a str,
    /// When set, containers of another pod with the same name do not count.
    pub pod_uid: &'a str,
    pub container: &'a str,
}

/// The newest instance (highest attempt, running or not) of the target, or
/// with `previous` the newest one with a lower attempt than that.
pub fn resolve<'c>(
    containers: &'c [ContainerInfo],
    target: Target,
    previous: bool,
) -> Result<&'c ContainerInfo, Status> {
    if target.container.is_empty() {
        return Err(Status::invalid_argument("a container name is required"));
    }
    let newest_first = {
        let mut instances: Vec<&ContainerInfo> = containers
            .iter()
            .filter(|c| {
                c.namespace == target.namespace
                    && c.pod_name == target.pod
                    && c.container_name.as_deref() == Some(target.container)
                    && (target.pod_uid.is_empty() || c.pod_uid == target.pod_uid)
            })
            .collect();
        // Equal attempts (a recreated sandbox) are told apart by start time.
        instances.sort_by(|a, b| (b.attempt, &b.started_at).cmp(&(a.attempt, &a.started_at)));
        instances
    };
    let Some(latest) = newest_first.first() else {
        return Err(Status::not_found(format!(
            "container \"{}\" in pod \"{}\" not found on this node",
            target.container, target.pod
        )));
    };
    if !previous {
        return Ok(latest);
    }
    newest_first.iter().find(|c| c.attempt < latest.attempt).copied().ok_or_else(|| {
        Status::not_found(format!(
            "previous terminated container \"{}\" in pod \"{}\" not found",
            target.container, target.pod
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::ContainerState::{Exited, Running};
    use crate::streaming::testing::{container, pod_uid};
    use tonic::Code;

    fn target(container: &str) -> Target<'_> {
        Target { namespace: "default", pod: "web", pod_uid: "", container }
    }

    #[test]
    fn the_newest_attempt_wins_running_or_not() {
        let containers = vec![
            container("a0", "default", "web", "app", 0, Exited),
            container("a2", "default", "web", "app", 2, Exited),
            container("a1", "default", "web", "app", 1, Running),
        ];
        assert_eq!(resolve(&containers, target("app"), false).unwrap().id, "a2");
        assert_eq!(resolve(&containers, target("app"), true).unwrap().id, "a1");
    }

    #[test]
    fn other_pods_namespaces_uids_and_the_sandbox_do_not_count() {
        let mut sandbox = container("pause", "default", "web", "app", 5, Running);
        sandbox.container_name = None;
        let mut old_pod = container("old", "default", "web", "app", 7, Exited);
        old_pod.pod_uid = "uid-old".into();
        let containers = vec![
            sandbox,
            old_pod,
            container("other-ns", "prod", "web", "app", 9, Running),
            container("other-pod", "default", "web2", "app", 9, Running),
            container("other-container", "default", "web", "sidecar", 9, Running),
            container("mine", "default", "web", "app", 0, Running),
        ];
        let uid = pod_uid("default", "web");
        let by_uid = Target { pod_uid: &uid, ..target("app") };
        assert_eq!(resolve(&containers, by_uid, false).unwrap().id, "mine");
    }

    #[test]
    fn missing_containers_are_named_in_the_error() {
        let containers = vec![container("a0", "default", "web", "app", 0, Running)];
        let missing = resolve(&containers, target("db"), false).unwrap_err();
        assert_eq!(missing.code(), Code::NotFound);
        assert_eq!(missing.message(), "container \"db\" in pod \"web\" not found on this node");
        let no_previous = resolve(&containers, target("app"), true).unwrap_err();
        assert_eq!(no_previous.code(), Code::NotFound);
        assert_eq!(no_previous.message(), "previous terminated container \"app\" in pod \"web\" not found");
        assert_eq!(resolve(&containers, target(""), false).unwrap_err().code(), Code::InvalidArgument);
    }
}
