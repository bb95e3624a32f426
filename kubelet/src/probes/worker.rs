//! One probe of one container, run every period until the manager stops it.

use super::manager::{OnChange, Results};
use super::run::{run_probe, Outcome};
use super::spec::ProbeSpec;
use super::thresholds::Thresholds;
use super::ProbeKind;
use crate::runtime::ContainerRuntime;
use chrono::{DateTime, Utc};
use rk_client::clock::Clock;
use std::sync::{Arc, Mutex};
use tokio::time::MissedTickBehavior;

pub(super) struct Worker {
    pub kind: ProbeKind,
    pub pod_key: String,
    pub container_id: String,
    pub spec: ProbeSpec,
    pub started_at: DateTime<Utc>,
    pub runtime: Arc<dyn ContainerRuntime>,
    pub clock: Arc<dyn Clock>,
    pub results: Arc<Mutex<Results>>,
    pub on_change: OnChange,
}

impl Worker {
    pub async fn run(self) {
        // The initial delay counts from the container's start, which may be
        // long past when the kubelet adopts a running container.
        let since_start = (self.clock.now() - self.started_at).to_std().unwrap_or_default();
        if let Some(wait) = self.spec.initial_delay.checked_sub(since_start) {
            tokio::time::sleep(wait).await;
        }
        // Readiness starts unready; liveness starts alive.
        let mut thresholds =
            Thresholds::new(self.spec.success_threshold, self.spec.failure_threshold, self.kind == ProbeKind::Liveness);
        let mut ticker = tokio::time::interval(self.spec.period);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let outcome = run_probe(self.runtime.as_ref(), &self.container_id, &self.spec).await;
            if let Outcome::Failure(message) = &outcome {
                tracing::debug!(pod = %self.pod_key, container = %self.container_id, kind = %self.kind, %message, "probe failed");
            }
            if !thresholds.observe(outcome == Outcome::Success) {
                continue;
            }
            self.record(thresholds.healthy(), outcome);
            (self.on_change)(&self.pod_key);
            if self.kind == ProbeKind::Liveness && !thresholds.healthy() {
                // On hold: the container is restarted with a new id and a new worker.
                return;
            }
        }
    }

    fn record(&self, healthy: bool, outcome: Outcome) {
        tracing::info!(pod = %self.pod_key, container = %self.container_id, kind = %self.kind, healthy, "probe result changed");
        let mut results = self.results.lock().unwrap();
        // A worker being stopped may finish one last attempt: its container is gone.
        let Some(container) = results.get_mut(&self.container_id) else { return };
        match (self.kind, outcome) {
            (ProbeKind::Readiness, _) => container.ready = Some(healthy),
            (ProbeKind::Liveness, Outcome::Failure(message)) => {
                container.liveness_failure = Some(format!("{} probe failed: {message}", self.kind))
            }
            (ProbeKind::Liveness, Outcome::Success) => container.liveness_failure = None,
        }
    }
}
