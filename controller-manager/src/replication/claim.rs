//! Claiming pods, as Kubernetes' ControllerRefManager: a controller keeps the
//! pods it controls whose labels match its selector, adopts matching pods
//! without a controller, and releases the pods it controls whose labels no
//! longer match. A controller being deleted neither adopts nor releases.

use super::owner::{controller_of, controller_reference};
use rk_client::Client;
use rk_proto::labels::LabelSelector;
use rk_proto::v1::{Pod, ReplicationController};
use rk_proto::Resource;
use std::sync::Arc;
use tonic::{Code, Status};

/// Attempts to adopt or release one pod before giving up on a pod that keeps changing.
const CONFLICT_RETRIES: usize = 3;

/// What a controller does with a pod in its namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// It is the pod's controller and the labels match.
    Keep,
    /// The pod matches and has no controller.
    Adopt,
    /// It is the pod's controller but the labels no longer match.
    Release,
    /// Someone else's pod, or one that does not match.
    Ignore,
}

pub fn classify(rc: &ReplicationController, selector: &LabelSelector, pod: &Pod) -> Claim {
    let rc_deleting = !rc.metadata().deletion_timestamp.is_empty();
    let matches = selector.matches(&pod.metadata().labels);
    match controller_of(pod.metadata()) {
        Some(owner) if owner.uid == rc.metadata().uid => match (matches, rc_deleting) {
            (true, _) => Claim::Keep,
            (false, true) => Claim::Ignore,
            (false, false) => Claim::Release,
        },
        Some(_) => Claim::Ignore,
        None if matches && !rc_deleting && pod.metadata().deletion_timestamp.is_empty() => Claim::Adopt,
        None => Claim::Ignore,
    }
}

/// Claims `pods` (pods of the controller's namespace) and returns those the controller now controls.
pub async fn claim_pods(
    client: &Client,
    rc: &ReplicationController,
    pods: Vec<Arc<Pod>>,
) -> Result<Vec<Arc<Pod>>, Status> {
    let selector = LabelSelector::from_map(&rc.spec.as_ref().map(|spec| spec.selector.clone()).unwrap_or_default());
    let mut adoption_checked = false;
    let mut claimed = Vec::new();
    for pod in pods {
        let claim = classify(rc, &selector, &pod);
        match claim {
            Claim::Keep => claimed.push(pod),
            Claim::Ignore => {}
            Claim::Adopt | Claim::Release => {
                if claim == Claim::Adopt && !adoption_checked {
                    check_can_adopt(client, rc).await?;
                    adoption_checked = true;
                }
                let settled = settle(client, rc, &selector, claim, &pod).await?;
                if let Some(pod) = settled.filter(|pod| classify(rc, &selector, pod) == Claim::Keep) {
                    claimed.push(Arc::new(pod));
                }
            }
        }
    }
    Ok(claimed)
}

/// Adoption is checked against a fresh copy of the controller: the cached one
/// may not show yet that it was deleted, and adopting for it would hand pods
/// to an owner that is going away.
async fn check_can_adopt(client: &Client, rc: &ReplicationController) -> Result<(), Status> {
    let meta = rc.metadata();
    let fresh: ReplicationController = client.get(&meta.namespace, &meta.name).await?;
    if fresh.metadata().uid != meta.uid || !fresh.metadata().deletion_timestamp.is_empty() {
        return Err(Status::failed_precondition(format!(
            "replication controller {}/{} is being deleted or was replaced; not adopting pods for it",
            meta.namespace, meta.name
        )));
    }
    Ok(())
}

/// Adopts or releases the pod by updating its owner references, re-reading it
/// after a conflict and re-checking that the claim still applies. Returns the
/// pod as it ends up, or None when it is gone.
async fn settle(
    client: &Client,
    rc: &ReplicationController,
    selector: &LabelSelector,
    claim: Claim,
    pod: &Pod,
) -> Result<Option<Pod>, Status> {
    let (namespace, name) = (pod.metadata().namespace.clone(), pod.metadata().name.clone());
    let mut current = pod.clone();
    for _ in 0..CONFLICT_RETRIES {
        if classify(rc, selector, &current) != claim {
            return Ok(Some(current));
        }
        let references = &mut current.metadata_mut().owner_references;
        match claim {
            Claim::Adopt => references.push(controller_reference(rc)),
            _ => references.retain(|reference| reference.uid != rc.metadata().uid),
        }
        match client.update(current).await {
            Ok(updated) => return Ok(Some(updated)),
            Err(conflict) if conflict.code() == Code::Aborted => match client.get(&namespace, &name).await {
                Ok(fresh) => current = fresh,
                Err(gone) if gone.code() == Code::NotFound => return Ok(None),
                Err(error) => return Err(error),
            },
            Err(gone) if gone.code() == Code::NotFound => return Ok(None),
            Err(error) => return Err(error),
        }
    }
    Err(Status::aborted(format!("pod {namespace}/{name} kept changing while it was being claimed; will retry")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::v1::{ObjectMeta, OwnerReference};

    fn rc(deleting: bool) -> ReplicationController {
        ReplicationController {
            metadata: Some(ObjectMeta {
                name: "web".into(),
                uid: "rc-uid".into(),
                deletion_timestamp: if deleting { "2024-01-01T00:00:00Z".into() } else { String::new() },
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn pod(app: &str, controller_uid: Option<&str>) -> Pod {
        let owner_references = controller_uid
            .map(|uid| OwnerReference { uid: uid.into(), controller: Some(true), ..Default::default() })
            .into_iter()
            .collect();
        Pod {
            metadata: Some(ObjectMeta {
                labels: [("app".to_string(), app.to_string())].into(),
                owner_references,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn pods_are_kept_adopted_released_or_left_alone() {
        let selector = LabelSelector::from_map(&[("app".to_string(), "web".to_string())].into());
        let live = rc(false);
        assert_eq!(classify(&live, &selector, &pod("web", Some("rc-uid"))), Claim::Keep);
        assert_eq!(classify(&live, &selector, &pod("web", None)), Claim::Adopt);
        assert_eq!(classify(&live, &selector, &pod("db", Some("rc-uid"))), Claim::Release);
        assert_eq!(classify(&live, &selector, &pod("web", Some("other"))), Claim::Ignore);
        assert_eq!(classify(&live, &selector, &pod("db", None)), Claim::Ignore);
    }

    #[test]
    fn a_controller_being_deleted_neither_adopts_nor_releases() {
        let selector = LabelSelector::from_map(&[("app".to_string(), "web".to_string())].into());
        let deleting = rc(true);
        assert_eq!(classify(&deleting, &selector, &pod("web", None)), Claim::Ignore);
        assert_eq!(classify(&deleting, &selector, &pod("db", Some("rc-uid"))), Claim::Ignore);
        assert_eq!(classify(&deleting, &selector, &pod("web", Some("rc-uid"))), Claim::Keep);
    }
}
