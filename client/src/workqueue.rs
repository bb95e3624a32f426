//! A work queue of object keys, as client-go's: a key is queued at most once,
//! never handed to two workers at a time, and failures are retried with
//! per-key exponential back-off.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::Notify;

/// First retry delay after a failure; doubles with each further failure.
const BASE_DELAY: Duration = Duration::from_millis(5);
const MAX_DELAY: Duration = Duration::from_secs(300);

#[derive(Default)]
struct State {
    queue: VecDeque<String>,
    /// Keys waiting in `queue`, or re-added while being processed.
    dirty: HashSet<String>,
    processing: HashSet<String>,
    failures: HashMap<String, u32>,
    shut_down: bool,
}

#[derive(Default)]
pub struct WorkQueue {
    state: Mutex<State>,
    ready: Notify,
}

impl WorkQueue {
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues `key` unless it is already waiting; a key being processed is
    /// queued again once its worker is done.
    pub fn add(&self, key: &str) {
        let mut state = self.state.lock().unwrap();
        if state.shut_down || !state.dirty.insert(key.to_string()) {
            return;
        }
        if !state.processing.contains(key) {
            state.queue.push_back(key.to_string());
            drop(state);
            self.ready.notify_one();
        }
    }

    /// Queues `key` after `delay`.
    pub fn add_after(self: &std::sync::Arc<Self>, key: &str, delay: Duration) {
        let (queue, key) = (std::sync::Arc::clone(self), key.to_string());
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            queue.add(&key);
        });
    }

    /// Queues `key` after its back-off delay, which doubles with every failure until [`forget`](Self::forget).
    pub fn add_rate_limited(self: &std::sync::Arc<Self>, key: &str) {
        let failures = {
            let mut state = self.state.lock().unwrap();
            let count = state.failures.entry(key.to_string()).or_insert(0);
            *count += 1;
            *count
        };
        self.add_after(key, backoff(failures));
    }

    /// Clears the key's failure count after it succeeded.
    pub fn forget(&self, key: &str) {
        self.state.lock().unwrap().failures.remove(key);
    }

    /// The next key to work on, or None once the queue is shut down.
    pub async fn get(&self) -> Option<String> {
        loop {
            let notified = self.ready.notified();
            {
                let mut state = self.state.lock().unwrap();
                if let Some(key) = state.queue.pop_front() {
                    state.dirty.remove(&key);
                    state.processing.insert(key.clone());
                    return Some(key);
                }
                if state.shut_down {
                    return None;
                }
            }
            notified.await;
        }
    }

    /// Marks `key` finished; if it was added meanwhile, it is queued again.
    pub fn done(&self, key: &str) {
        let mut state = self.state.lock().unwrap();
        state.processing.remove(key);
        if state.dirty.contains(key) {
            state.queue.push_back(key.to_string());
            drop(state);
            self.ready.notify_one();
        }
    }

    pub fn len(&self) -> usize {
        self.state.lock().unwrap().queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Wakes every worker; `get` returns None from now on.
    pub fn shut_down(&self) {
        self.state.lock().unwrap().shut_down = true;
        self.ready.notify_waiters();
    }
}

fn backoff(failures: u32) -> Duration {
    BASE_DELAY.saturating_mul(1 << failures.saturating_sub(1).min(20)).min(MAX_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn keys_are_deduplicated_and_never_processed_twice_at_once() {
        let queue = WorkQueue::new();
        queue.add("a");
        queue.add("a");
        queue.add("b");
        assert_eq!(queue.len(), 2);
        let first = queue.get().await.unwrap();
        assert_eq!(first, "a");
        queue.add("a"); // re-added while processing: waits until done
        assert_eq!(queue.get().await.unwrap(), "b");
        assert!(queue.is_empty());
        queue.done("a");
        assert_eq!(queue.get().await.unwrap(), "a");
    }

    #[tokio::test(start_paused = true)]
    async fn failures_back_off_exponentially_until_forgotten() {
        let queue = Arc::new(WorkQueue::new());
        assert_eq!(backoff(1), Duration::from_millis(5));
        assert_eq!(backoff(4), Duration::from_millis(40));
        assert_eq!(backoff(100), MAX_DELAY);
        queue.add_rate_limited("k");
        queue.add_rate_limited("k");
        let started = tokio::time::Instant::now();
        assert_eq!(queue.get().await.unwrap(), "k");
        assert!(started.elapsed() >= Duration::from_millis(5));
        queue.forget("k");
        assert!(queue.state.lock().unwrap().failures.is_empty());
    }

    #[tokio::test]
    async fn shut_down_releases_waiting_workers() {
        let queue = Arc::new(WorkQueue::new());
        let waiter = tokio::spawn({
            let queue = Arc::clone(&queue);
            async move { queue.get().await }
        });
        tokio::task::yield_now().await;
        queue.shut_down();
        assert_eq!(waiter.await.unwrap(), None);
    }
}
