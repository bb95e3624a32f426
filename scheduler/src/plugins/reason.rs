//! Why a pod cannot run on a node, worded as Kubernetes words it.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    NotReady,
    Unschedulable,
    NodeSelectorMismatch,
    DatasetPrimaryMismatch,
    PortsInUse,
    InsufficientCpu,
    InsufficientMemory,
    TooManyPods,
}

impl Reason {
    pub const ALL: [Reason; 8] = [
        Reason::NotReady,
        Reason::Unschedulable,
        Reason::NodeSelectorMismatch,
        Reason::DatasetPrimaryMismatch,
        Reason::PortsInUse,
        Reason::InsufficientCpu,
        Reason::InsufficientMemory,
        Reason::TooManyPods,
    ];

    pub fn message(self) -> &'static str {
        match self {
            Reason::NotReady => "node(s) were not ready",
            Reason::Unschedulable => "node(s) were unschedulable",
            Reason::NodeSelectorMismatch => "node(s) didn't match node selector",
            Reason::DatasetPrimaryMismatch => "node(s) didn't match dataset primary",
            Reason::PortsInUse => "node(s) didn't have free ports for the requested pod ports",
            Reason::InsufficientCpu => "Insufficient cpu",
            Reason::InsufficientMemory => "Insufficient memory",
            Reason::TooManyPods => "Too many pods",
        }
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// A set of [`Reason`]s: what a filter answers. Empty means the pod fits.
/// A bit set, so filtering thousands of nodes allocates nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reasons(u8);

impl Reasons {
    pub const NONE: Reasons = Reasons(0);

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn insert(&mut self, reason: Reason) {
        self.0 |= reason.bit();
    }

    pub fn contains(self, reason: Reason) -> bool {
        self.0 & reason.bit() != 0
    }

    pub fn iter(self) -> impl Iterator<Item = Reason> {
        Reason::ALL.into_iter().filter(move |r| self.contains(*r))
    }

    /// `Ok` when empty, else the reasons in a fixed order.
    pub fn into_result(self) -> Result<(), Vec<Reason>> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.iter().collect())
        }
    }
}

impl From<Reason> for Reasons {
    fn from(reason: Reason) -> Reasons {
        Reasons(reason.bit())
    }
}

impl FromIterator<Reason> for Reasons {
    fn from_iter<I: IntoIterator<Item = Reason>>(reasons: I) -> Reasons {
        let mut set = Reasons::NONE;
        reasons.into_iter().for_each(|r| set.insert(r));
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_holds_each_reason_once_in_a_fixed_order() {
        let set: Reasons = [Reason::TooManyPods, Reason::InsufficientCpu, Reason::TooManyPods].into_iter().collect();
        assert_eq!(set.into_result(), Err(vec![Reason::InsufficientCpu, Reason::TooManyPods]));
        assert_eq!(Reasons::NONE.into_result(), Ok(()));
        assert_eq!(Reason::InsufficientCpu.to_string(), "Insufficient cpu");
    }
}
