//! A pod's containers as the runtime reports them, grouped the way the sync
//! loop asks about them: the current sandbox, and per spec container the
//! latest run and the one before it.

use crate::runtime::{ContainerInfo, ContainerState};

#[derive(Debug, Clone, Default)]
pub struct PodContainers {
    pub all: Vec<ContainerInfo>,
}

impl PodContainers {
    /// The containers of the pod with this uid, out of a node-wide listing.
    pub fn of_pod(listing: &[ContainerInfo], pod_uid: &str) -> PodContainers {
        PodContainers { all: listing.iter().filter(|c| c.pod_uid == pod_uid).cloned().collect() }
    }

    /// The newest sandbox (highest attempt), running or not.
    pub fn sandbox(&self) -> Option<&ContainerInfo> {
        self.all.iter().filter(|c| c.is_sandbox()).max_by_key(|c| c.attempt)
    }

    pub fn running_sandbox(&self) -> Option<&ContainerInfo> {
        self.sandbox().filter(|s| s.state == ContainerState::Running)
    }

    /// Runs of spec container `name`, newest first.
    pub fn runs(&self, name: &str) -> Vec<&ContainerInfo> {
        let mut runs: Vec<_> = self.all.iter().filter(|c| c.container_name.as_deref() == Some(name)).collect();
        runs.sort_by_key(|c| std::cmp::Reverse(c.attempt));
        runs
    }

    pub fn latest(&self, name: &str) -> Option<&ContainerInfo> {
        self.runs(name).into_iter().next()
    }

    /// The run before the latest: what `lastState` and `logs --previous` show.
    pub fn previous(&self, name: &str) -> Option<&ContainerInfo> {
        self.runs(name).into_iter().nth(1)
    }

    pub fn running_apps(&self) -> impl Iterator<Item = &ContainerInfo> {
        self.all.iter().filter(|c| !c.is_sandbox() && c.state == ContainerState::Running)
    }

    pub fn any_running(&self) -> bool {
        self.all.iter().any(|c| c.state == ContainerState::Running)
    }

    /// Containers that only take space: dead runs older than the previous
    /// one of each container, and dead sandboxes other than the newest.
    pub fn prunable(&self) -> Vec<&ContainerInfo> {
        let newest_sandbox = self.sandbox().map(|s| s.id.as_str());
        self.all
            .iter()
            .filter(|c| c.state != ContainerState::Running)
            .filter(|c| match &c.container_name {
                None => Some(c.id.as_str()) != newest_sandbox,
                Some(name) => self.runs(name).iter().skip(2).any(|old| old.id == c.id),
            })
            .collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::BTreeMap;

    pub fn info(id: &str, name: Option<&str>, attempt: u32, state: ContainerState) -> ContainerInfo {
        ContainerInfo {
            id: id.into(),
            pod_uid: "uid-1".into(),
            namespace: "default".into(),
            pod_name: "web".into(),
            container_name: name.map(String::from),
            attempt,
            state,
            exit_code: 0,
            started_at: String::new(),
            finished_at: String::new(),
            reason: String::new(),
            message: String::new(),
            image: String::new(),
            image_id: String::new(),
            ip: None,
            labels: BTreeMap::new(),
        }
    }

    #[test]
    fn latest_and_previous_follow_attempts_not_listing_order() {
        let pod = PodContainers {
            all: vec![
                info("a1", Some("app"), 1, ContainerState::Exited),
                info("a2", Some("app"), 2, ContainerState::Running),
                info("a0", Some("app"), 0, ContainerState::Exited),
                info("s0", None, 0, ContainerState::Running),
            ],
        };
        assert_eq!(pod.latest("app").unwrap().id, "a2");
        assert_eq!(pod.previous("app").unwrap().id, "a1");
        assert_eq!(pod.sandbox().unwrap().id, "s0");
        assert!(pod.latest("other").is_none());
    }

    #[test]
    fn prunes_only_dead_runs_older_than_the_previous_and_old_sandboxes() {
        let pod = PodContainers {
            all: vec![
                info("a0", Some("app"), 0, ContainerState::Exited),
                info("a1", Some("app"), 1, ContainerState::Exited),
                info("a2", Some("app"), 2, ContainerState::Exited),
                info("s0", None, 0, ContainerState::Exited),
                info("s1", None, 1, ContainerState::Running),
            ],
        };
        let mut pruned: Vec<_> = pod.prunable().iter().map(|c| c.id.clone()).collect();
        pruned.sort();
        assert_eq!(pruned, ["a0", "s0"]);
    }
}
