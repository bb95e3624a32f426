//! Crash-loop and image-pull back-off, per key (for example pod uid + container
//! name), as Kubernetes' kubelet keeps it: the first restart waits `initial`,
//! each further one twice as long up to `max`; a key left alone for 2 × `max`
//! (a container that ran that long) starts again at `initial`.

use chrono::{DateTime, Utc};
use rk_client::clock::Clock;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct Entry {
    delay: Duration,
    /// When the delay was last grown.
    last_update: DateTime<Utc>,
}

pub struct Backoff {
    initial: Duration,
    max: Duration,
    clock: Arc<dyn Clock>,
    entries: Mutex<HashMap<String, Entry>>,
}

/// The back-off key of one container of one pod.
pub fn container_key(pod_uid: &str, container_name: &str) -> String {
    format!("{pod_uid}/{container_name}")
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration, clock: Arc<dyn Clock>) -> Backoff {
        Backoff { initial, max, clock, entries: Mutex::new(HashMap::new()) }
    }

    /// How much longer `key` must wait, counting from `since` (when the
    /// container finished, or the pull failed); `None` when it may go now.
    pub fn in_backoff(&self, key: &str, since: DateTime<Utc>) -> Option<Duration> {
        let entries = self.entries.lock().unwrap();
        let entry = entries.get(key)?;
        if self.stale(entry, since) {
            return None;
        }
        let waited = elapsed(since, self.clock.now());
        entry.delay.checked_sub(waited).filter(|remaining| !remaining.is_zero())
    }

    /// How much longer `key` must wait counting from its last [`next`](Self::next)
    /// (a failed image pull waits from the failure itself).
    pub fn remaining(&self, key: &str) -> Option<Duration> {
        let since = self.entries.lock().unwrap().get(key)?.last_update;
        self.in_backoff(key, since)
    }

    /// Records a restart (or a pull attempt) of `key`: the next wait is longer.
    pub fn next(&self, key: &str) {
        let now = self.clock.now();
        let mut entries = self.entries.lock().unwrap();
        let delay = match entries.get(key) {
            Some(entry) if !self.stale(entry, now) => (entry.delay * 2).min(self.max),
            _ => self.initial,
        };
        entries.insert(key.to_string(), Entry { delay, last_update: now });
    }

    /// The wait currently set for `key` (for messages like "back-off 40s").
    pub fn delay(&self, key: &str) -> Option<Duration> {
        self.entries.lock().unwrap().get(key).map(|entry| entry.delay)
    }

    pub fn forget(&self, key: &str) {
        self.entries.lock().unwrap().remove(key);
    }

    /// Drops the entries nobody has touched for 2 × `max`.
    pub fn gc(&self) {
        let now = self.clock.now();
        self.entries.lock().unwrap().retain(|_, entry| !self.stale(entry, now));
    }

    /// Untouched for twice the maximum delay: the container was stable.
    fn stale(&self, entry: &Entry, at: DateTime<Utc>) -> bool {
        elapsed(entry.last_update, at) > self.max * 2
    }
}

/// `to - from`, zero when `to` is earlier.
fn elapsed(from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
    (to - from).to_std().unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_client::clock::FakeClock;

    const INITIAL: Duration = Duration::from_secs(10);
    const MAX: Duration = Duration::from_secs(300);

    fn setup() -> (Arc<FakeClock>, Backoff) {
        let start = DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z").unwrap().with_timezone(&Utc);
        let clock = Arc::new(FakeClock::new(start));
        (clock.clone(), Backoff::new(INITIAL, MAX, clock))
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn an_unknown_key_is_never_in_backoff() {
        let (clock, backoff) = setup();
        assert_eq!(backoff.in_backoff("pod/app", clock.now()), None);
        assert_eq!(backoff.delay("pod/app"), None);
    }

    #[test]
    fn delays_double_from_initial_up_to_max() {
        let (clock, backoff) = setup();
        let mut seen = Vec::new();
        for _ in 0..7 {
            backoff.next("k");
            seen.push(backoff.delay("k").unwrap().as_secs());
            clock.advance(secs(1));
        }
        assert_eq!(seen, vec![10, 20, 40, 80, 160, 300, 300]);
    }

    #[test]
    fn remaining_wait_counts_from_the_given_instant() {
        let (clock, backoff) = setup();
        backoff.next("k");
        backoff.next("k"); // 20 s
        let finished = clock.now();
        clock.advance(secs(5));
        assert_eq!(backoff.in_backoff("k", finished), Some(secs(15)));
        clock.advance(secs(15));
        assert_eq!(backoff.in_backoff("k", finished), None, "the wait is over at exactly 20 s");
    }

    #[test]
    fn remaining_counts_from_the_last_attempt() {
        let (clock, backoff) = setup();
        assert_eq!(backoff.remaining("pull"), None);
        backoff.next("pull");
        clock.advance(secs(4));
        assert_eq!(backoff.remaining("pull"), Some(secs(6)));
        clock.advance(secs(6));
        assert_eq!(backoff.remaining("pull"), None);
        backoff.next("pull"); // failed again: 20 s from now
        clock.advance(secs(1));
        assert_eq!(backoff.remaining("pull"), Some(secs(19)));
    }

    #[test]
    fn keys_are_independent_and_forget_resets_one() {
        let (clock, backoff) = setup();
        backoff.next("a");
        backoff.next("a");
        backoff.next("b");
        assert_eq!(backoff.delay("a"), Some(secs(20)));
        assert_eq!(backoff.delay("b"), Some(secs(10)));
        backoff.forget("a");
        assert_eq!(backoff.in_backoff("a", clock.now()), None);
        backoff.next("a");
        assert_eq!(backoff.delay("a"), Some(INITIAL));
    }

    #[test]
    fn a_container_that_ran_for_twice_max_starts_again_at_initial() {
        let (clock, backoff) = setup();
        for _ in 0..4 {
            backoff.next("k"); // up to 80 s
        }
        clock.advance(MAX * 2 + secs(1));
        let finished = clock.now();
        assert_eq!(backoff.in_backoff("k", finished), None, "a long run is not in back-off");
        backoff.next("k");
        assert_eq!(backoff.delay("k"), Some(INITIAL));
    }

    #[test]
    fn a_short_run_keeps_growing_the_delay() {
        let (clock, backoff) = setup();
        backoff.next("k");
        clock.advance(MAX); // ran 5 min, less than 2 × max
        backoff.next("k");
        assert_eq!(backoff.delay("k"), Some(secs(20)));
    }

    #[test]
    fn gc_drops_only_stale_entries() {
        let (clock, backoff) = setup();
        backoff.next("old");
        clock.advance(MAX * 2);
        backoff.next("fresh");
        backoff.gc();
        assert!(backoff.delay("old").is_some(), "exactly 2 × max is not yet stale");
        clock.advance(secs(1));
        backoff.gc();
        assert_eq!(backoff.delay("old"), None);
        assert_eq!(backoff.delay("fresh"), Some(INITIAL));
    }
}
