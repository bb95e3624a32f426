//! What the controller does about one dataset, as a pure function of the
//! dataset, its users and the nodes' readiness: the status it should have,
//! the pods to delete (they sit away from `spec.primary`; their controllers
//! recreate them and the scheduler sends them to the primary) and an event.
//! While the data moves, those pods are deleted only once the target holds a
//! first copy (reason FirstPassDone), so the downtime is the final pass.
//!
//! - not placed yet: on the desired node, phase Pending (the kubelet there
//!   makes the directory and sets Ready); a Pending dataset has no data yet,
//!   so it simply follows the desired node;
//! - held by a node that is not Ready: Unavailable (NodeNotReady), back to
//!   Ready when it returns; never recreated elsewhere;
//! - Ready away from the desired node: Moving to it (the target's kubelet
//!   pulls, then flips `status.node`); a move whose reason went away is
//!   called off (Ready again) or aimed at the new desired node.

use super::desired::desired_node;
use super::users::node_of;
use rk_proto::v1::{Dataset, DatasetMove, DatasetStatus, Pod};
use rk_proto::DATASET_FIRST_PASS_DONE as FIRST_PASS_DONE;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub warning: bool,
    pub reason: &'static str,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct Verdict {
    /// The status to write, when it differs from the current one.
    pub status: Option<DatasetStatus>,
    pub evict: Vec<Arc<Pod>>,
    pub event: Option<Event>,
}

pub fn decide(dataset: &Dataset, users: &[Arc<Pod>], node_ready: &dyn Fn(&str) -> bool, now: &str) -> Verdict {
    let current = dataset.status.clone().unwrap_or_default();
    let desired = desired_node(dataset, users);
    let primary = dataset.spec.as_ref().map(|s| s.primary.as_str()).unwrap_or_default();
    let mut next = current.clone();
    let mut event = None;
    let node = current.node.clone();
    let settle = |next: &mut DatasetStatus, phase: &str| {
        next.phase = phase.to_string();
        next.target_node.clear();
        next.reason.clear();
        next.message.clear();
    };
    match current.phase.as_str() {
        _ if desired.is_empty() => {}
        "" | "Pending" if node != desired => {
            next.node = desired.clone();
            settle(&mut next, "Pending");
            event = Some(normal("DatasetPlaced", format!("Placed on node {desired}")));
        }
        "" | "Pending" => {}
        _ if !node_ready(&node) => {
            if current.phase != "Unavailable" {
                let message = format!("node {node} is not ready");
                event = Some(Event { warning: true, reason: "DatasetUnavailable", message: message.clone() });
                settle(&mut next, "Unavailable");
                next.reason = "NodeNotReady".into();
                next.message = message;
            }
        }
        _ if desired != node => {
            if current.phase != "Moving" || current.target_node != desired {
                settle(&mut next, "Moving");
                next.target_node = desired.clone();
                next.last_move = Some(DatasetMove {
                    from: node.clone(),
                    to: desired.clone(),
                    started: now.to_string(),
                    ..Default::default()
                });
                event = Some(normal("DatasetMoving", format!("Moving from node {node} to node {desired}")));
            }
        }
        phase => {
            if phase != "Ready" {
                settle(&mut next, "Ready");
                event = Some(match phase {
                    "Unavailable" => normal("DatasetAvailable", format!("node {node} is ready again")),
                    _ => normal("DatasetMoveCancelled", format!("Staying on node {node}")),
                });
            }
        }
    }
    // Stop, final sync, start: while the data moves, the pods away from the
    // primary keep running until the target holds a first copy.
    let first_copy_pending = next.phase == "Moving" && next.reason != FIRST_PASS_DONE;
    let evict = if primary.is_empty() || first_copy_pending {
        Vec::new()
    } else {
        users.iter().filter(|pod| node_of(pod) != primary).cloned().collect()
    };
    let status = (next != current).then_some(next);
    Verdict { status, evict, event }
}

fn normal(reason: &'static str, message: String) -> Event {
    Event { warning: false, reason, message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::v1::{DatasetSpec, DatasetVolumeSource, ObjectMeta, PodSpec, Volume};

    const NOW: &str = "2024-05-01T12:00:00Z";

    fn dataset(primary: &str, node: &str, phase: &str, target: &str) -> Dataset {
        Dataset {
            metadata: Some(ObjectMeta { name: "data".into(), namespace: "default".into(), ..Default::default() }),
            spec: Some(DatasetSpec { primary: primary.into(), ..Default::default() }),
            status: Some(DatasetStatus {
                node: node.into(),
                phase: phase.into(),
                target_node: target.into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn user(name: &str, node: &str, created: &str) -> Arc<Pod> {
        Arc::new(Pod {
            metadata: Some(ObjectMeta {
                name: name.into(),
                namespace: "default".into(),
                creation_timestamp: created.into(),
                ..Default::default()
            }),
            spec: Some(PodSpec {
                node_name: node.into(),
                volumes: vec![Volume {
                    name: "d".into(),
                    dataset: Some(DatasetVolumeSource { name: "data".into() }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        })
    }

    fn all_ready(_: &str) -> bool {
        true
    }

    fn phase_of(verdict: &Verdict) -> Option<(String, String, String)> {
        verdict.status.as_ref().map(|s| (s.node.clone(), s.phase.clone(), s.target_node.clone()))
    }

    fn triple(node: &str, phase: &str, target: &str) -> Option<(String, String, String)> {
        Some((node.into(), phase.into(), target.into()))
    }

    #[test]
    fn desired_is_primary_then_the_oldest_user_then_where_it_is() {
        let users = [user("b", "n2", "2024-01-02T00:00:00Z"), user("a", "n3", "2024-01-01T00:00:00Z")];
        let mut sorted = users.to_vec();
        sorted.sort_by(|a, b| {
            a.metadata.as_ref().unwrap().creation_timestamp.cmp(&b.metadata.as_ref().unwrap().creation_timestamp)
        });
        assert_eq!(desired_node(&dataset("n1", "n4", "Ready", ""), &sorted), "n1");
        assert_eq!(desired_node(&dataset("", "n4", "Ready", ""), &sorted), "n3");
        assert_eq!(desired_node(&dataset("", "n4", "Ready", ""), &[]), "n4");
        assert_eq!(desired_node(&dataset("", "", "", ""), &[]), "");
    }

    #[test]
    fn a_new_dataset_goes_to_its_primary_or_its_first_user() {
        let verdict = decide(&dataset("n1", "", "", ""), &[], &all_ready, NOW);
        assert_eq!(phase_of(&verdict), triple("n1", "Pending", ""));
        assert_eq!(verdict.event.unwrap().reason, "DatasetPlaced");
        let verdict = decide(&dataset("", "", "", ""), &[user("p", "n2", NOW)], &all_ready, NOW);
        assert_eq!(phase_of(&verdict), triple("n2", "Pending", ""));
        assert!(decide(&dataset("", "", "", ""), &[], &all_ready, NOW).status.is_none(), "nowhere to go yet");
        assert!(decide(&dataset("n1", "n1", "Pending", ""), &[], &all_ready, NOW).status.is_none());
    }

    #[test]
    fn a_ready_dataset_moves_to_where_its_pod_went() {
        let verdict = decide(&dataset("", "n1", "Ready", ""), &[user("p", "n2", NOW)], &all_ready, NOW);
        assert_eq!(phase_of(&verdict), triple("n1", "Moving", "n2"));
        let status = verdict.status.unwrap();
        let last_move = status.last_move.unwrap();
        assert_eq!((last_move.from.as_str(), last_move.to.as_str(), last_move.started.as_str()), ("n1", "n2", NOW));
        assert_eq!(verdict.event.unwrap().message, "Moving from node n1 to node n2");
        assert!(verdict.evict.is_empty());
        let moving = dataset("", "n1", "Moving", "n2");
        assert!(decide(&moving, &[user("p", "n2", NOW)], &all_ready, NOW).status.is_none(), "already moving");
        let verdict = decide(&moving, &[user("p", "n1", NOW)], &all_ready, NOW);
        assert_eq!(phase_of(&verdict), triple("n1", "Ready", ""), "called off");
        let verdict = decide(&moving, &[user("p", "n3", NOW)], &all_ready, NOW);
        assert_eq!(phase_of(&verdict), triple("n1", "Moving", "n3"), "aimed at the new node");
    }

    #[test]
    fn a_changed_primary_moves_the_data_and_deletes_the_pod_away_from_it_after_the_first_pass() {
        let pod = user("p", "n1", NOW);
        let verdict = decide(&dataset("n2", "n1", "Ready", ""), &[Arc::clone(&pod)], &all_ready, NOW);
        assert_eq!(phase_of(&verdict), triple("n1", "Moving", "n2"));
        assert!(verdict.evict.is_empty(), "the pod runs during the first pass");
        let moving = dataset("n2", "n1", "Moving", "n2");
        assert!(decide(&moving, &[Arc::clone(&pod)], &all_ready, NOW).evict.is_empty());
        let mut first_copy_there = moving;
        first_copy_there.status.as_mut().unwrap().reason = FIRST_PASS_DONE.into();
        let verdict = decide(&first_copy_there, &[pod], &all_ready, NOW);
        assert!(verdict.status.is_none(), "still moving");
        assert_eq!(verdict.evict.len(), 1, "stopped for the final pass");
        assert!(decide(&dataset("n2", "n2", "Ready", ""), &[user("p", "n2", NOW)], &all_ready, NOW).evict.is_empty());
        let verdict = decide(&dataset("n2", "n2", "Ready", ""), &[user("p", "n1", NOW)], &all_ready, NOW);
        assert_eq!(verdict.evict.len(), 1, "the data is on the primary already: nothing to wait for");
    }

    #[test]
    fn a_dataset_on_a_node_that_is_not_ready_is_unavailable_until_it_returns() {
        let down = |node: &str| node != "n1";
        let verdict = decide(&dataset("", "n1", "Ready", ""), &[user("p", "n2", NOW)], &down, NOW);
        assert_eq!(phase_of(&verdict), triple("n1", "Unavailable", ""), "never recreated on n2");
        let status = verdict.status.unwrap();
        assert_eq!((status.reason.as_str(), status.message.as_str()), ("NodeNotReady", "node n1 is not ready"));
        assert_eq!(verdict.event.unwrap().reason, "DatasetUnavailable");
        let unavailable = dataset("", "n1", "Unavailable", "");
        assert!(decide(&unavailable, &[], &down, NOW).status.is_none());
        let verdict = decide(&unavailable, &[], &all_ready, NOW);
        assert_eq!(phase_of(&verdict), triple("n1", "Ready", ""));
        assert_eq!(verdict.status.unwrap().reason, "");
        let verdict = decide(&dataset("", "n1", "Pending", ""), &[user("p", "n2", NOW)], &down, NOW);
        assert_eq!(phase_of(&verdict), triple("n2", "Pending", ""), "nothing there yet: follows the pod");
    }
}
