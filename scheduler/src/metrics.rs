//! Counters of what the scheduler did, for `/metrics`, logs, tests and benchmarks.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

#[derive(Debug, Default)]
pub struct Metrics {
    /// Scheduling cycles run (one per pod taken from the queue and still unbound).
    pub attempts: AtomicU64,
    /// Binds that succeeded: pods this scheduler placed.
    pub bound: AtomicU64,
    /// Binds refused because the pod was bound (by another scheduler), deleted or replaced meanwhile.
    pub lost_races: AtomicU64,
    /// Binds that failed otherwise (retried after a back-off).
    pub bind_errors: AtomicU64,
    /// Cycles that found no node for the pod.
    pub unschedulable: AtomicU64,
}

impl Metrics {
    /// The counters in Prometheus' text format.
    pub fn render(&self) -> String {
        let counters = [
            ("rk_scheduler_attempts_total", "Scheduling cycles run.", &self.attempts),
            ("rk_scheduler_pods_bound_total", "Pods bound to a node by this scheduler.", &self.bound),
            (
                "rk_scheduler_bind_conflicts_total",
                "Binds refused because the pod was bound elsewhere, deleted or replaced meanwhile.",
                &self.lost_races,
            ),
            ("rk_scheduler_bind_errors_total", "Binds that failed and were retried.", &self.bind_errors),
            ("rk_scheduler_unschedulable_total", "Scheduling cycles that found no node.", &self.unschedulable),
        ];
        let mut text = String::new();
        for (name, help, value) in counters {
            let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}", value.load(Relaxed));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_counters() {
        let metrics = Metrics::default();
        metrics.bound.fetch_add(3, Relaxed);
        let text = metrics.render();
        assert!(text.contains("# TYPE rk_scheduler_pods_bound_total counter\nrk_scheduler_pods_bound_total 3\n"));
        assert_eq!(text.lines().filter(|line| !line.starts_with('#')).count(), 5);
    }
}
