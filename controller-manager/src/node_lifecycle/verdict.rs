//! The decision about one node at one instant, as a pure function of the
//! node and the time.
//!
//! Times are the ones written in the node's status: the kubelet's
//! lastHeartbeatTime and the Ready condition's lastTransitionTime. They are
//! compared with this machine's clock, so node clocks must be kept in sync
//! (Kubernetes instead times heartbeats by when it observes them change).

use super::conditions::{is_unknown, ready_condition};
use chrono::{DateTime, Utc};
use rk_proto::time::parse;
use rk_proto::v1::Node;
use rk_proto::Resource;
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Silence after which the kubelet's conditions become Unknown.
    pub grace: Duration,
    /// Time not ready after which the node's pods are deleted.
    pub eviction: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing to do yet; the next deadline passes after this long.
    RecheckIn(Duration),
    /// The kubelet has been silent longer than the grace period.
    MarkUnknown,
    /// Not ready for longer than the eviction timeout.
    Evict,
}

pub fn verdict(node: &Node, now: DateTime<Utc>, timeouts: &Timeouts) -> Verdict {
    let ready = ready_condition(node);
    let created = parse(&node.metadata().creation_timestamp);
    // A kubelet that never posted is timed from the node's registration.
    let heard = ready.and_then(|c| parse(&c.last_heartbeat_time)).or(created);
    // Once Unknown, the controller has already said all there is to say about silence.
    let silent_deadline = (!ready.is_some_and(is_unknown)).then(|| deadline(heard, timeouts.grace));
    let eviction_deadline = ready
        .filter(|c| c.status != "True")
        .map(|c| deadline(parse(&c.last_transition_time).or(heard), timeouts.eviction));
    if silent_deadline.is_some_and(|d| d <= now) {
        return Verdict::MarkUnknown;
    }
    if eviction_deadline.is_some_and(|d| d <= now) {
        return Verdict::Evict;
    }
    let next = silent_deadline.into_iter().chain(eviction_deadline).min().unwrap_or(now);
    Verdict::RecheckIn((next - now).to_std().unwrap_or_default())
}

/// `since + timeout`; an unreadable time counts as long past.
fn deadline(since: Option<DateTime<Utc>>, timeout: Duration) -> DateTime<Utc> {
    since.map_or(DateTime::<Utc>::MIN_UTC, |t| t + timeout)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::time::format;
    use rk_proto::v1::{NodeCondition, NodeStatus, ObjectMeta};

    const TIMEOUTS: Timeouts = Timeouts { grace: Duration::from_secs(40), eviction: Duration::from_secs(300) };

    fn at(seconds: i64) -> DateTime<Utc> {
        parse("2024-01-01T00:00:00Z").unwrap() + chrono::Duration::seconds(seconds)
    }

    /// A node registered at 0 s whose Ready condition has `status` since `transition` and a heartbeat at `heartbeat`.
    fn node(status: &str, heartbeat: i64, transition: i64) -> Node {
        let ready = NodeCondition {
            r#type: "Ready".into(),
            status: status.into(),
            last_heartbeat_time: format(at(heartbeat)),
            last_transition_time: format(at(transition)),
            ..Default::default()
        };
        Node { status: Some(NodeStatus { conditions: vec![ready], ..Default::default() }), ..registered() }
    }

    fn registered() -> Node {
        let meta = ObjectMeta { name: "n".into(), creation_timestamp: format(at(0)), ..Default::default() };
        Node { metadata: Some(meta), ..Default::default() }
    }

    fn secs(s: u64) -> Verdict {
        Verdict::RecheckIn(Duration::from_secs(s))
    }

    #[test]
    fn a_ready_node_is_looked_at_again_when_its_grace_period_runs_out() {
        assert_eq!(verdict(&node("True", 100, 0), at(110), &TIMEOUTS), secs(30));
        assert_eq!(verdict(&node("True", 100, 0), at(139), &TIMEOUTS), secs(1));
    }

    #[test]
    fn a_silent_node_becomes_unknown_after_the_grace_period() {
        assert_eq!(verdict(&node("True", 100, 0), at(140), &TIMEOUTS), Verdict::MarkUnknown);
        assert_eq!(verdict(&node("False", 100, 90), at(141), &TIMEOUTS), Verdict::MarkUnknown);
    }

    #[test]
    fn an_unknown_node_is_evicted_after_the_timeout_from_its_transition() {
        assert_eq!(verdict(&node("Unknown", 100, 140), at(200), &TIMEOUTS), secs(240));
        assert_eq!(verdict(&node("Unknown", 100, 140), at(440), &TIMEOUTS), Verdict::Evict);
        assert_eq!(verdict(&node("Unknown", 100, 140), at(9000), &TIMEOUTS), Verdict::Evict);
    }

    #[test]
    fn a_node_its_kubelet_calls_not_ready_is_evicted_too() {
        // Heartbeats keep coming: the nearer deadline is the grace period's.
        assert_eq!(verdict(&node("False", 500, 300), at(510), &TIMEOUTS), secs(30));
        assert_eq!(verdict(&node("False", 590, 300), at(599), &TIMEOUTS), secs(1));
        assert_eq!(verdict(&node("False", 590, 300), at(600), &TIMEOUTS), Verdict::Evict);
    }

    #[test]
    fn silence_is_reported_before_eviction() {
        assert_eq!(verdict(&node("False", 100, 0), at(1000), &TIMEOUTS), Verdict::MarkUnknown);
    }

    #[test]
    fn a_node_whose_kubelet_never_posted_is_timed_from_its_registration() {
        assert_eq!(verdict(&registered(), at(10), &TIMEOUTS), secs(30));
        assert_eq!(verdict(&registered(), at(40), &TIMEOUTS), Verdict::MarkUnknown);
    }

    #[test]
    fn unreadable_times_count_as_long_past() {
        let mut garbled = node("True", 100, 0);
        garbled.status.as_mut().unwrap().conditions[0].last_heartbeat_time = "yesterday".into();
        assert_eq!(verdict(&garbled, at(39), &TIMEOUTS), secs(1), "timed from registration");
        garbled.metadata.as_mut().unwrap().creation_timestamp.clear();
        assert_eq!(verdict(&garbled, at(1), &TIMEOUTS), Verdict::MarkUnknown);
    }
}
