//! The proxy's Prometheus metrics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, Default)]
pub struct Metrics {
    syncs: AtomicU64,
    failures: AtomicU64,
    last_sync_micros: AtomicU64,
    rules_written: AtomicU64,
    last_success_unix: AtomicU64,
}

impl Metrics {
    pub fn record_success(&self, took: Duration, rules: usize) {
        self.syncs.fetch_add(1, Ordering::Relaxed);
        self.last_sync_micros.store(took.as_micros() as u64, Ordering::Relaxed);
        self.rules_written.fetch_add(rules as u64, Ordering::Relaxed);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        self.last_success_unix.store(now.as_secs(), Ordering::Relaxed);
    }

    pub fn record_failure(&self) {
        self.failures.fetch_add(1, Ordering::Relaxed);
    }

    pub fn render(&self) -> String {
        let get = |value: &AtomicU64| value.load(Ordering::Relaxed);
        format!(
            "# TYPE rk_proxy_syncs_total counter\nrk_proxy_syncs_total {}\n\
             # TYPE rk_proxy_sync_failures_total counter\nrk_proxy_sync_failures_total {}\n\
             # TYPE rk_proxy_sync_duration_seconds gauge\nrk_proxy_sync_duration_seconds {:.6}\n\
             # TYPE rk_proxy_rules_written_total counter\nrk_proxy_rules_written_total {}\n\
             # TYPE rk_proxy_last_successful_sync_timestamp_seconds gauge\nrk_proxy_last_successful_sync_timestamp_seconds {}\n",
            get(&self.syncs),
            get(&self.failures),
            get(&self.last_sync_micros) as f64 / 1e6,
            get(&self.rules_written),
            get(&self.last_success_unix),
        )
    }
}
