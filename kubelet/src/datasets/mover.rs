//! The move driver, on the target node: while the dataset is Moving here,
//! pull it from the node that holds it into the staging directory (a first
//! pass while the old pod may still run), then the final pass, which the
//! source answers only once no running container there uses the dataset and
//! which sends only what changed; rename the staging directory into place
//! and flip the status (node = me, Ready, lastMove). A failure leaves the
//! source as it is and is retried with back-off; the status only flips once
//! the data here is complete and verified.

use super::paths::{dataset_dir, disk_usage, remove_tree, seed_staging, staging_dir};
use super::source_node::transfer_endpoint;
use super::transfer::{connect, pull, DatasetKey, PullError, PullReport};
use rk_client::events::EventType;
use rk_client::{Client, EventRecorder};
use rk_proto::v1::{Dataset, DatasetMove, DatasetStatus, Node};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often a refused final pass is asked again (the old pod stopping).
const FINAL_RETRY: Duration = Duration::from_millis(100);
/// How often the dataset is read again while waiting for the old pod.
const RECHECK: Duration = Duration::from_secs(2);
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

pub struct Mover {
    pub client: Client,
    pub recorder: EventRecorder,
    pub me: String,
    pub root: PathBuf,
    pub token: String,
}

enum Outcome {
    Moved,
    /// The dataset is no longer moving here (called off, retargeted, deleted).
    NotMine,
}

fn moving_here(dataset: &Dataset, me: &str) -> bool {
    dataset.status.as_ref().is_some_and(|s| s.phase == "Moving" && s.target_node == me && !s.node.is_empty())
}

fn moving_here_from(dataset: &Dataset, me: &str, source: &str) -> bool {
    moving_here(dataset, me) && dataset.status.as_ref().is_some_and(|s| s.node == source)
}

impl Mover {
    /// Moves `key` here, retrying until it is done or no longer asked for.
    pub async fn run(self: Arc<Self>, key: DatasetKey) {
        let mut delay = FIRST_BACKOFF;
        loop {
            match self.attempt(&key).await {
                Ok(Outcome::Moved) => return,
                Ok(Outcome::NotMine) => {
                    let _ = remove_tree(&staging_dir(&self.root, &key));
                    return;
                }
                Err(error) => {
                    tracing::warn!(dataset = %key, %error, retry_in = ?delay, "dataset move failed");
                    self.report_failure(&key, &error).await;
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    async fn get(&self, key: &DatasetKey) -> Result<Option<Dataset>, String> {
        match self.client.get::<Dataset>(&key.namespace, &key.name).await {
            Ok(dataset) => Ok(Some(dataset)),
            Err(status) if status.code() == tonic::Code::NotFound => Ok(None),
            Err(status) => Err(format!("reading the dataset: {}", status.message())),
        }
    }

    async fn attempt(&self, key: &DatasetKey) -> Result<Outcome, String> {
        let attempt_started = chrono::Utc::now();
        let Some(dataset) = self.get(key).await?.filter(|d| moving_here(d, &self.me)) else {
            return Ok(Outcome::NotMine);
        };
        let source = dataset.status.clone().unwrap_or_default().node;
        let node: Node =
            self.client.get("", &source).await.map_err(|s| format!("reading node {source}: {}", s.message()))?;
        let endpoint = transfer_endpoint(&node)?;
        let transfer = connect(&endpoint, &self.token).await.map_err(|e| format!("connecting to {endpoint}: {e}"))?;
        let staging = staging_dir(&self.root, key);
        match seed_staging(&self.root, key) {
            Ok(true) => tracing::info!(dataset = %key, "resuming from the copy already here"),
            Ok(false) => {}
            Err(e) => return Err(format!("seeding {} from the copy here: {e}", staging.display())),
        }
        std::fs::create_dir_all(&staging).map_err(|e| format!("creating {}: {e}", staging.display()))?;
        let first = pull(&transfer, key, &staging, false).await.map_err(|e| e.to_string())?;
        tracing::info!(dataset = %key, from = %source, bytes = first.bytes_sent, "first pass done; waiting for the final pass");
        if !self.mark_first_pass_done(key, &source).await? {
            return Ok(Outcome::NotMine);
        }

        // The final pass, once the old pod has stopped on the source.
        let mut last_refusal = None;
        let mut last_check = Instant::now();
        let last = loop {
            match pull(&transfer, key, &staging, true).await {
                Ok(report) => break report,
                Err(error) if PullError::is_in_use(&error) => {
                    last_refusal = Some(chrono::Utc::now());
                    if last_check.elapsed() >= RECHECK {
                        last_check = Instant::now();
                        if !self.get(key).await?.is_some_and(|d| moving_here(&d, &self.me)) {
                            return Ok(Outcome::NotMine);
                        }
                    }
                    tokio::time::sleep(FINAL_RETRY).await;
                }
                Err(error) => return Err(error.to_string()),
            }
        };
        let target = dataset_dir(&self.root, key);
        remove_tree(&target).map_err(|e| format!("removing a stale {}: {e}", target.display()))?;
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("creating {}: {e}", parent.display()))?;
        }
        std::fs::rename(&staging, &target).map_err(|e| format!("renaming the staging directory into place: {e}"))?;
        self.flip(key, &source, attempt_started, last_refusal, &first, &last).await
    }

    /// Writes node = me, Ready, lastMove; only if the dataset still moves here from `source`.
    async fn flip(
        &self,
        key: &DatasetKey,
        source: &str,
        attempt_started: chrono::DateTime<chrono::Utc>,
        last_refusal: Option<chrono::DateTime<chrono::Utc>>,
        first: &PullReport,
        last: &PullReport,
    ) -> Result<Outcome, String> {
        let target = dataset_dir(&self.root, key);
        let bytes_used = tokio::task::spawn_blocking(move || disk_usage(&target)).await.unwrap_or(0) as i64;
        let written = self
            .write_status(key, |dataset| {
                if !moving_here_from(dataset, &self.me, source) {
                    return false;
                }
                let status = dataset.status.clone().unwrap_or_default();
                let finished = chrono::Utc::now();
                let started = status
                    .last_move
                    .as_ref()
                    .and_then(|m| rk_proto::time::parse(&m.started))
                    .map(|t| t.with_timezone(&chrono::Utc))
                    .unwrap_or(attempt_started);
                // The data is out of reach from when the old pod stopped (after the
                // last refused final pass; before the move began if none was refused).
                let downtime_from = last_refusal.unwrap_or(started);
                let last_move = DatasetMove {
                    from: source.to_string(),
                    to: self.me.clone(),
                    started: started.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    finished: finished.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    duration_ms: (finished - started).num_milliseconds().max(0),
                    downtime_ms: (finished - downtime_from).num_milliseconds().max(0),
                    bytes_sent: (first.bytes_sent + last.bytes_sent) as i64,
                };
                dataset.status = Some(DatasetStatus {
                    node: self.me.clone(),
                    phase: "Ready".into(),
                    bytes_used,
                    last_move: Some(last_move),
                    ..Default::default()
                });
                true
            })
            .await?;
        let Some(written) = written else { return Ok(Outcome::NotMine) };
        let last_move = written.status.as_ref().and_then(|s| s.last_move.clone()).unwrap_or_default();
        let message = format!(
            "Moved from node {source} in {:.1} s (downtime {:.1} s, {} bytes sent)",
            last_move.duration_ms as f64 / 1000.0,
            last_move.downtime_ms as f64 / 1000.0,
            last_move.bytes_sent
        );
        tracing::info!(dataset = %key, "{message}");
        self.recorder.record(&written, EventType::Normal, "DatasetMoved", message);
        Ok(Outcome::Moved)
    }

    /// Reason FirstPassDone in the status: the controller then stops the pods
    /// that wait for a spec.primary move, whose data the final pass completes.
    /// False when the dataset no longer moves here from `source`.
    async fn mark_first_pass_done(&self, key: &DatasetKey, source: &str) -> Result<bool, String> {
        let written = self
            .write_status(key, |dataset| {
                let still_here = moving_here_from(dataset, &self.me, source);
                if still_here {
                    let status = dataset.status.get_or_insert_with(Default::default);
                    status.reason = rk_proto::DATASET_FIRST_PASS_DONE.into();
                    status.message = format!("node {} holds a first copy; the final pass follows", self.me);
                }
                still_here
            })
            .await?;
        Ok(written.is_some())
    }

    /// Writes the status `edit` makes of the dataset, from a fresh read whenever
    /// another writer got there first. `edit` returns false to leave the dataset
    /// alone; then, or when the dataset is gone, nothing is written and the answer is None.
    async fn write_status(
        &self,
        key: &DatasetKey,
        mut edit: impl FnMut(&mut Dataset) -> bool,
    ) -> Result<Option<Dataset>, String> {
        for _ in 0..10 {
            let Some(mut dataset) = self.get(key).await? else { return Ok(None) };
            if !edit(&mut dataset) {
                return Ok(None);
            }
            match self.client.update_status(dataset).await {
                Ok(written) => return Ok(Some(written)),
                Err(status) if status.code() == tonic::Code::Aborted => continue,
                Err(status) => return Err(format!("writing the status: {}", status.message())),
            }
        }
        Err("the dataset kept changing while its status was written".into())
    }

    /// MoveFailed in the status (the move stays on) and an event.
    async fn report_failure(&self, key: &DatasetKey, error: &str) {
        let message = format!("move to node {} failed, retrying: {error}", self.me);
        let written = self.write_status(key, |dataset| {
            let here = moving_here(dataset, &self.me);
            if here {
                let status = dataset.status.get_or_insert_with(Default::default);
                status.reason = "MoveFailed".into();
                status.message = message.clone();
            }
            here
        });
        if let Ok(Some(written)) = written.await {
            self.recorder.record(&written, EventType::Warning, "DatasetMoveFailed", message);
        }
    }
}
