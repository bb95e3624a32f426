//! Waiting reasons per pod and container, remembered between syncs: the
//! sync loop decides them (ErrImagePull, CrashLoopBackOff...), the status
//! computation reports them.

use super::status::Waiting;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct WaitingReasons {
    by_pod: Mutex<HashMap<String, HashMap<String, Waiting>>>,
}

impl WaitingReasons {
    /// Remembers why the container waits; true when that is news (it waited for another reason or not at all).
    pub fn set(&self, pod_uid: &str, container: &str, reason: &str, message: impl Into<String>) -> bool {
        let waiting = Waiting { reason: reason.to_string(), message: message.into() };
        let mut by_pod = self.by_pod.lock().unwrap();
        let before = by_pod.entry(pod_uid.to_string()).or_default().insert(container.to_string(), waiting.clone());
        before != Some(waiting)
    }

    pub fn clear(&self, pod_uid: &str, container: &str) {
        if let Some(pod) = self.by_pod.lock().unwrap().get_mut(pod_uid) {
            pod.remove(container);
        }
    }

    pub fn of_pod(&self, pod_uid: &str) -> HashMap<String, Waiting> {
        self.by_pod.lock().unwrap().get(pod_uid).cloned().unwrap_or_default()
    }

    pub fn forget_pod(&self, pod_uid: &str) {
        self.by_pod.lock().unwrap().remove(pod_uid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_tells_whether_the_reason_is_news() {
        let waiting = WaitingReasons::default();
        assert!(waiting.set("uid", "app", "DatasetInUse", "in use by pod a"));
        assert!(!waiting.set("uid", "app", "DatasetInUse", "in use by pod a"), "the same reason again");
        assert!(waiting.set("uid", "app", "DatasetInUse", "in use by pod b"), "a new message");
        assert!(waiting.set("uid", "cache", "DatasetInUse", "in use by pod b"), "another container");
        waiting.clear("uid", "app");
        assert!(waiting.set("uid", "app", "DatasetInUse", "in use by pod b"), "after it stopped waiting");
    }
}
