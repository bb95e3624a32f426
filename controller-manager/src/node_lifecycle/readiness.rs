//! Ready transitions this controller has seen, for the NodeReady and
//! NodeNotReady events. The first look at a node (after a restart, too) only
//! sets the baseline: an event reports a change, not a state.

use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    BecameReady,
    BecameNotReady,
}

impl Transition {
    /// The event reason, as Kubernetes' node controller writes it.
    pub fn reason(self) -> &'static str {
        match self {
            Transition::BecameReady => "NodeReady",
            Transition::BecameNotReady => "NodeNotReady",
        }
    }
}

#[derive(Default)]
pub struct Readiness {
    ready: Mutex<HashMap<String, bool>>,
}

impl Readiness {
    /// Remembers whether `node` is ready; returns the change since the last look.
    pub fn observe(&self, node: &str, ready: bool) -> Option<Transition> {
        let before = self.ready.lock().unwrap().insert(node.to_string(), ready)?;
        match (before, ready) {
            (false, true) => Some(Transition::BecameReady),
            (true, false) => Some(Transition::BecameNotReady),
            _ => None,
        }
    }

    /// Forgets a deleted node.
    pub fn forget(&self, node: &str) {
        self.ready.lock().unwrap().remove(node);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_changes_only() {
        let readiness = Readiness::default();
        assert_eq!(readiness.observe("a", true), None, "the first look is a baseline");
        assert_eq!(readiness.observe("a", true), None);
        assert_eq!(readiness.observe("a", false), Some(Transition::BecameNotReady));
        assert_eq!(readiness.observe("a", false), None);
        assert_eq!(readiness.observe("a", true), Some(Transition::BecameReady));
        assert_eq!(readiness.observe("b", false), None, "nodes are tracked apart");
        readiness.forget("a");
        assert_eq!(readiness.observe("a", false), None, "a node of the same name is new");
    }
}
