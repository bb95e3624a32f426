//! Expectations, as in Kubernetes' controllers: after creating or deleting
//! pods for a controller, remember how many creations and which deletions the
//! pod informer has yet to report, and do not act on that controller again
//! until it has. Without them a slow watch makes the controller count the old
//! pods, decide it is still short, and create the same pods again.
//!
//! An expectation that is never met (a missed event) expires after a timeout,
//! so a controller is never stuck for good.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Kubernetes' ExpectationsTimeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// What one controller waits for.
struct Pending {
    /// Creations not yet seen; may go below zero when the informer reports a
    /// pod before its create call returns.
    creations: i64,
    /// Keys of the pods whose deletion has not been seen. A set, not a count:
    /// a graceful deletion is reported twice (deletionTimestamp set, then gone).
    deletions: HashSet<String>,
    since: Instant,
}

impl Pending {
    fn fulfilled(&self) -> bool {
        self.creations <= 0 && self.deletions.is_empty()
    }
}

/// Expectations of every controller, by controller key.
pub struct Expectations {
    timeout: Duration,
    pending: Mutex<HashMap<String, Pending>>,
}

impl Expectations {
    pub fn new(timeout: Duration) -> Self {
        Expectations { timeout, pending: Mutex::new(HashMap::new()) }
    }

    /// Whether the controller may act on the pods it sees: everything it did
    /// has been observed, or the wait expired. Ask before listing pods, so a
    /// pod observed after the answer is in the list.
    pub fn satisfied(&self, key: &str) -> bool {
        self.time_left(key).is_none()
    }

    /// How long the controller still waits, or None when it need not.
    pub fn time_left(&self, key: &str) -> Option<Duration> {
        let pending = self.pending.lock().unwrap();
        let pending = pending.get(key).filter(|pending| !pending.fulfilled())?;
        self.timeout.checked_sub(pending.since.elapsed()).filter(|left| !left.is_zero())
    }

    /// Expects `count` new pods; replaces what was expected before.
    pub fn expect_creations(&self, key: &str, count: usize) {
        self.set(key, Pending { creations: count as i64, deletions: HashSet::new(), since: Instant::now() });
    }

    /// Expects these pods (by key) to go; replaces what was expected before.
    pub fn expect_deletions(&self, key: &str, pods: impl IntoIterator<Item = String>) {
        self.set(key, Pending { creations: 0, deletions: pods.into_iter().collect(), since: Instant::now() });
    }

    /// A pod of the controller appeared, or `count` creations will never happen because they failed.
    pub fn creations_observed(&self, key: &str, count: usize) {
        if let Some(pending) = self.pending.lock().unwrap().get_mut(key) {
            pending.creations -= count as i64;
        }
    }

    /// The pod went (or is going), or its deletion failed and will never be seen.
    pub fn deletion_observed(&self, key: &str, pod: &str) {
        if let Some(pending) = self.pending.lock().unwrap().get_mut(key) {
            pending.deletions.remove(pod);
        }
    }

    /// The controller is gone.
    pub fn forget(&self, key: &str) {
        self.pending.lock().unwrap().remove(key);
    }

    fn set(&self, key: &str, pending: Pending) {
        self.pending.lock().unwrap().insert(key.to_string(), pending);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: Duration = Duration::from_secs(3600);

    #[test]
    fn creations_are_awaited_until_each_is_observed() {
        let expectations = Expectations::new(LONG);
        assert!(expectations.satisfied("ns/web"), "nothing expected yet");
        expectations.expect_creations("ns/web", 3);
        expectations.creations_observed("ns/web", 2);
        assert!(!expectations.satisfied("ns/web"));
        assert!(expectations.satisfied("ns/other"), "expectations are per controller");
        expectations.creations_observed("ns/web", 1);
        assert!(expectations.satisfied("ns/web"));
    }

    #[test]
    fn each_deletion_counts_once_however_often_it_is_reported() {
        let expectations = Expectations::new(LONG);
        expectations.expect_deletions("ns/web", ["ns/a".to_string(), "ns/b".to_string()]);
        expectations.deletion_observed("ns/web", "ns/a");
        expectations.deletion_observed("ns/web", "ns/a");
        assert!(!expectations.satisfied("ns/web"), "ns/b has not gone yet");
        expectations.deletion_observed("ns/web", "ns/b");
        assert!(expectations.satisfied("ns/web"));
    }

    #[test]
    fn unmet_expectations_expire() {
        let expectations = Expectations::new(Duration::ZERO);
        expectations.expect_creations("ns/web", 5);
        assert!(expectations.satisfied("ns/web"));
        let waiting = Expectations::new(LONG);
        waiting.expect_creations("ns/web", 5);
        assert!(waiting.time_left("ns/web").is_some_and(|left| left > LONG - Duration::from_secs(60)));
    }

    #[test]
    fn forgetting_a_controller_drops_its_expectations() {
        let expectations = Expectations::new(LONG);
        expectations.expect_creations("ns/web", 1);
        expectations.forget("ns/web");
        assert!(expectations.satisfied("ns/web"));
    }
}
