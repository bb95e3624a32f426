//! Prometheus metrics of the apiserver, rendered as text on `/metrics`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
struct RequestStats {
    count: u64,
    seconds: f64,
}

#[derive(Default)]
pub struct Metrics {
    /// Keyed by (resource, verb, gRPC code).
    requests: Mutex<BTreeMap<(&'static str, &'static str, String), RequestStats>>,
    watchers: AtomicI64,
}

impl Metrics {
    pub fn observe(&self, resource: &'static str, verb: &'static str, code: tonic::Code, elapsed: Duration) {
        let mut requests = self.requests.lock().unwrap();
        let stats = requests.entry((resource, verb, format!("{code:?}"))).or_default();
        stats.count += 1;
        stats.seconds += elapsed.as_secs_f64();
    }

    pub fn watch_started(self: &Arc<Self>) -> WatcherGuard {
        self.watchers.fetch_add(1, Ordering::Relaxed);
        WatcherGuard(Arc::clone(self))
    }

    pub fn render(&self) -> String {
        let mut out = String::from(
            "# HELP rk_apiserver_requests_total gRPC requests by resource, verb and code.\n\
             # TYPE rk_apiserver_requests_total counter\n",
        );
        let requests = self.requests.lock().unwrap();
        for ((resource, verb, code), stats) in requests.iter() {
            out += &format!(
                "rk_apiserver_requests_total{{resource=\"{resource}\",verb=\"{verb}\",code=\"{code}\"}} {}\n",
                stats.count
            );
        }
        out += "# HELP rk_apiserver_request_duration_seconds Time spent serving requests.\n\
                # TYPE rk_apiserver_request_duration_seconds summary\n";
        for ((resource, verb, code), stats) in requests.iter() {
            let labels = format!("resource=\"{resource}\",verb=\"{verb}\",code=\"{code}\"");
            out += &format!("rk_apiserver_request_duration_seconds_sum{{{labels}}} {}\n", stats.seconds);
            out += &format!("rk_apiserver_request_duration_seconds_count{{{labels}}} {}\n", stats.count);
        }
        out += &format!(
            "# HELP rk_apiserver_watchers Open watch streams.\n# TYPE rk_apiserver_watchers gauge\nrk_apiserver_watchers {}\n",
            self.watchers.load(Ordering::Relaxed)
        );
        out
    }
}

/// Counts an open watch until dropped.
pub struct WatcherGuard(Arc<Metrics>);

impl Drop for WatcherGuard {
    fn drop(&mut self) {
        self.0.watchers.fetch_sub(1, Ordering::Relaxed);
    }
}
