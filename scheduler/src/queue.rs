//! The scheduling queue: pods waiting for a node, in arrival order, and pods
//! that fit nowhere. Those are retried after a back-off that doubles per
//! failed attempt, and at once when something happens that could change the
//! answer (a node added or changed, a pod deleted or finished). Bound and
//! deleted pods leave the queue.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Active,
    /// Being scheduled or bound; `moves` is the move count when it was taken.
    InFlight {
        moves: u64,
    },
    /// Failed; retried at `retry_at` or on the next move, whichever comes first.
    Unschedulable {
        retry_at: Instant,
    },
}

#[derive(Debug)]
struct Entry {
    place: Place,
    failures: u32,
    /// The pod changed while in flight: its attempt may have used the old version.
    changed: bool,
}

#[derive(Debug, Default)]
struct State {
    /// Keys in arrival order; a key whose entry is no longer Active is skipped.
    active: VecDeque<String>,
    pods: HashMap<String, Entry>,
    /// Retry times of unschedulable pods; stale ones are skipped.
    retries: BinaryHeap<Reverse<(Instant, String)>>,
    /// How many times something happened that could let pods fit.
    moves: u64,
}

impl State {
    fn activate(&mut self, key: &str) {
        if let Some(entry) = self.pods.get_mut(key) {
            entry.place = Place::Active;
            self.active.push_back(key.to_string());
        }
    }

    fn retry_due(&mut self, now: Instant) {
        while let Some(Reverse((at, _))) = self.retries.peek() {
            if *at > now {
                break;
            }
            let Reverse((at, key)) = self.retries.pop().expect("peeked");
            if self.pods.get(&key).is_some_and(|e| e.place == Place::Unschedulable { retry_at: at }) {
                self.activate(&key);
            }
        }
    }

    fn take_active(&mut self) -> Option<String> {
        while let Some(key) = self.active.pop_front() {
            if let Some(entry) = self.pods.get_mut(&key) {
                if entry.place == Place::Active {
                    entry.place = Place::InFlight { moves: self.moves };
                    entry.changed = false;
                    return Some(key);
                }
            }
        }
        None
    }
}

pub struct SchedulingQueue {
    state: Mutex<State>,
    wake: Notify,
    initial_backoff: Duration,
    max_backoff: Duration,
}

impl SchedulingQueue {
    /// Retries of a pod that fits nowhere wait `initial_backoff`, doubling per
    /// further failure up to `max_backoff`.
    pub fn new(initial_backoff: Duration, max_backoff: Duration) -> SchedulingQueue {
        SchedulingQueue { state: Mutex::default(), wake: Notify::new(), initial_backoff, max_backoff }
    }

    /// Queues a pod that needs a node, unless it is queued already.
    pub fn add(&self, key: &str) {
        let mut state = self.state.lock().unwrap();
        if state.pods.contains_key(key) {
            return;
        }
        state.pods.insert(key.to_string(), Entry { place: Place::Active, failures: 0, changed: false });
        state.active.push_back(key.to_string());
        drop(state);
        self.wake.notify_one();
    }

    /// The pod changed: if it was waiting for a retry, its answer may differ now.
    pub fn update(&self, key: &str) {
        let mut state = self.state.lock().unwrap();
        let Some(entry) = state.pods.get_mut(key) else {
            drop(state);
            return self.add(key);
        };
        match entry.place {
            Place::Unschedulable { .. } => {
                state.activate(key);
                drop(state);
                self.wake.notify_one();
            }
            Place::InFlight { .. } => entry.changed = true,
            Place::Active => {}
        }
    }

    /// The pod is bound or gone: it leaves the queue.
    pub fn remove(&self, key: &str) {
        self.state.lock().unwrap().pods.remove(key);
    }

    /// Something changed that could let unschedulable pods fit: retry them all now.
    pub fn move_all(&self) {
        let mut state = self.state.lock().unwrap();
        state.moves += 1;
        let waiting: Vec<String> = state
            .pods
            .iter()
            .filter(|(_, entry)| matches!(entry.place, Place::Unschedulable { .. }))
            .map(|(key, _)| key.clone())
            .collect();
        for key in &waiting {
            state.activate(key);
        }
        drop(state);
        if !waiting.is_empty() {
            self.wake.notify_one();
        }
    }

    /// The next pod to schedule, oldest first; waits for one.
    pub async fn pop(&self) -> String {
        loop {
            let next_retry = {
                let mut state = self.state.lock().unwrap();
                state.retry_due(Instant::now());
                if let Some(key) = state.take_active() {
                    return key;
                }
                state.retries.peek().map(|Reverse((at, _))| *at)
            };
            match next_retry {
                Some(at) => {
                    tokio::select! {
                        _ = self.wake.notified() => {}
                        _ = tokio::time::sleep_until(at) => {}
                    }
                }
                None => self.wake.notified().await,
            }
        }
    }

    /// The pod taken by [`pop`](Self::pop) was bound: it leaves the queue.
    pub fn done(&self, key: &str) {
        let mut state = self.state.lock().unwrap();
        if state.pods.get(key).is_some_and(|entry| matches!(entry.place, Place::InFlight { .. })) {
            state.pods.remove(key);
        }
    }

    /// The pod taken by [`pop`](Self::pop) could not be placed or bound: retry
    /// after its back-off, or at once if a move happened or the pod changed
    /// while it was in flight (its attempt may have missed the change).
    pub fn failed(&self, key: &str) {
        let mut state = self.state.lock().unwrap();
        let moves_now = state.moves;
        let Some(entry) = state.pods.get_mut(key) else { return };
        let Place::InFlight { moves } = entry.place else { return };
        entry.failures += 1;
        if moves != moves_now || entry.changed {
            state.activate(key);
            drop(state);
            self.wake.notify_one();
            return;
        }
        let retry_at = Instant::now() + self.backoff(entry.failures);
        entry.place = Place::Unschedulable { retry_at };
        state.retries.push(Reverse((retry_at, key.to_string())));
        drop(state);
        // The waiting pop may need to wake earlier than it planned.
        self.wake.notify_one();
    }

    fn backoff(&self, failures: u32) -> Duration {
        self.initial_backoff.saturating_mul(1 << failures.saturating_sub(1).min(16)).min(self.max_backoff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue() -> SchedulingQueue {
        SchedulingQueue::new(Duration::from_secs(1), Duration::from_secs(10))
    }

    /// What `pop` returns within `within`, if anything.
    async fn pop_within(queue: &SchedulingQueue, within: Duration) -> Option<String> {
        tokio::time::timeout(within, queue.pop()).await.ok()
    }

    #[tokio::test(start_paused = true)]
    async fn pods_come_out_in_arrival_order_once() {
        let queue = queue();
        queue.add("a");
        queue.add("b");
        queue.add("a");
        assert_eq!(queue.pop().await, "a");
        queue.add("a"); // in flight: not queued twice
        assert_eq!(queue.pop().await, "b");
        assert_eq!(pop_within(&queue, Duration::from_secs(60)).await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn an_unschedulable_pod_is_retried_after_a_doubling_back_off() {
        let queue = queue();
        queue.add("p");
        assert_eq!(queue.pop().await, "p");
        let mut waits = Vec::new();
        for _ in 0..6 {
            queue.failed("p");
            let started = Instant::now();
            assert_eq!(queue.pop().await, "p");
            waits.push(started.elapsed().as_secs());
        }
        assert_eq!(waits, [1, 2, 4, 8, 10, 10]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_move_retries_unschedulable_pods_at_once() {
        let queue = queue();
        queue.add("p");
        assert_eq!(queue.pop().await, "p");
        queue.failed("p");
        assert_eq!(pop_within(&queue, Duration::from_millis(500)).await, None);
        queue.move_all();
        let started = Instant::now();
        assert_eq!(queue.pop().await, "p");
        assert_eq!(started.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn a_move_during_an_attempt_retries_the_pod_at_once() {
        let queue = queue();
        queue.add("p");
        assert_eq!(queue.pop().await, "p");
        queue.move_all(); // e.g. a node was added while the pod was being filtered
        queue.failed("p");
        assert_eq!(pop_within(&queue, Duration::ZERO).await.as_deref(), Some("p"));
    }

    #[tokio::test(start_paused = true)]
    async fn an_updated_pod_is_retried_at_once() {
        let queue = queue();
        queue.add("p");
        assert_eq!(queue.pop().await, "p");
        queue.failed("p");
        queue.update("p");
        assert_eq!(pop_within(&queue, Duration::ZERO).await.as_deref(), Some("p"));
        queue.update("p"); // changed during this attempt
        queue.failed("p");
        assert_eq!(pop_within(&queue, Duration::ZERO).await.as_deref(), Some("p"));
        queue.failed("p");
        assert_eq!(pop_within(&queue, Duration::ZERO).await, None, "unchanged: back to backing off");
    }

    #[tokio::test(start_paused = true)]
    async fn bound_and_deleted_pods_leave_the_queue() {
        let queue = queue();
        queue.add("waiting");
        queue.add("retrying");
        assert_eq!(queue.pop().await, "waiting");
        assert_eq!(queue.pop().await, "retrying");
        queue.failed("retrying");
        queue.add("deleted");
        queue.remove("deleted");
        queue.remove("retrying");
        queue.done("waiting");
        queue.move_all();
        assert_eq!(pop_within(&queue, Duration::from_secs(60)).await, None);
        queue.failed("waiting"); // a late failure of a pod that left changes nothing
        assert_eq!(pop_within(&queue, Duration::from_secs(60)).await, None);
    }
}
