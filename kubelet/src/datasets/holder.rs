//! The kubelet's reconcile per dataset: creates a dataset placed here
//! (Pending → Ready), keeps `bytesUsed` of the ones it holds, starts the
//! move driver for one Moving here, and removes its copy of one that another
//! node holds now (a move's source once the status flipped) or that was
//! deleted, once no running container here uses it.

use super::mover::Mover;
use super::paths::{dataset_dir, disk_usage, remove_tree, staging_dir};
use super::transfer::DatasetKey;
use super::users::DatasetUsers;
use rk_client::events::EventType;
use rk_client::{Action, Client, EventRecorder, Reconciler, Store};
use rk_proto::v1::Dataset;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often a held dataset's `bytesUsed` is measured.
pub const USAGE_PERIOD: Duration = Duration::from_secs(15);

/// How soon a copy kept because a container still used it is looked at again.
const RECHECK_IN_USE: Duration = Duration::from_secs(5);

type SyncError = Box<dyn std::error::Error + Send + Sync>;

pub struct DatasetHolder {
    pub client: Client,
    pub recorder: EventRecorder,
    pub me: String,
    pub root: PathBuf,
    pub datasets: Arc<Store<Dataset>>,
    pub users: Arc<DatasetUsers>,
    pub mover: Arc<Mover>,
    /// Datasets whose move here is running.
    pub moving: Arc<Mutex<HashSet<DatasetKey>>>,
}

fn key_of(key: &str) -> Option<DatasetKey> {
    let (namespace, name) = key.split_once('/')?;
    let key = DatasetKey::new(namespace, name);
    key.validate().ok().map(|_| key)
}

impl DatasetHolder {
    fn start_move(&self, key: DatasetKey) {
        if !self.moving.lock().unwrap().insert(key.clone()) {
            return;
        }
        let (mover, moving) = (Arc::clone(&self.mover), Arc::clone(&self.moving));
        tokio::spawn(async move {
            mover.run(key.clone()).await;
            moving.lock().unwrap().remove(&key);
        });
    }

    /// Removes this node's copy and staging directory unless a move here runs
    /// or a container uses it (then it looks again a little later).
    fn remove_copy(&self, key: &DatasetKey) -> Result<Action, SyncError> {
        if self.moving.lock().unwrap().contains(key) || self.users.in_use(key) {
            return Ok(Action::RequeueAfter(RECHECK_IN_USE));
        }
        if remove_tree(&dataset_dir(&self.root, key))? {
            tracing::info!(dataset = %key, "removed this node's copy: another node holds the dataset");
        }
        remove_tree(&staging_dir(&self.root, key))?;
        Ok(Action::Done)
    }

    async fn create(&self, dataset: &Dataset, key: &DatasetKey) -> Result<Action, SyncError> {
        std::fs::create_dir_all(dataset_dir(&self.root, key))?;
        let mut updated = dataset.clone();
        let status = updated.status.get_or_insert_with(Default::default);
        status.phase = "Ready".into();
        status.reason.clear();
        status.message.clear();
        match self.client.update_status(updated).await {
            Ok(written) => {
                let message = format!("Created on node {}", self.me);
                self.recorder.record(&written, EventType::Normal, "DatasetReady", message);
                Ok(Action::RequeueAfter(USAGE_PERIOD))
            }
            Err(status) if matches!(status.code(), tonic::Code::Aborted | tonic::Code::NotFound) => Ok(Action::Done),
            Err(status) => Err(status.into()),
        }
    }

    async fn measure(&self, dataset: &Dataset, key: &DatasetKey) -> Result<Action, SyncError> {
        let dir = dataset_dir(&self.root, key);
        let used = tokio::task::spawn_blocking(move || disk_usage(&dir)).await? as i64;
        if dataset.status.as_ref().is_some_and(|s| s.bytes_used != used) {
            let mut updated = dataset.clone();
            updated.status.get_or_insert_with(Default::default).bytes_used = used;
            if let Err(status) = self.client.update_status(updated).await {
                tracing::debug!(dataset = %key, error = %status.message(), "bytesUsed not written; next time");
            }
        }
        Ok(Action::RequeueAfter(USAGE_PERIOD))
    }
}

#[async_trait::async_trait]
impl Reconciler for DatasetHolder {
    fn name(&self) -> &'static str {
        "kubelet-datasets"
    }

    async fn reconcile(&self, key: &str) -> Result<Action, SyncError> {
        let Some(dataset_key) = key_of(key) else { return Ok(Action::Done) };
        let Some(dataset) = self.datasets.get(key) else {
            return self.remove_copy(&dataset_key);
        };
        let status = dataset.status.clone().unwrap_or_default();
        if status.node == self.me {
            if !self.moving.lock().unwrap().contains(&dataset_key) {
                remove_tree(&staging_dir(&self.root, &dataset_key))?;
            }
            return match status.phase.as_str() {
                "Pending" => self.create(&dataset, &dataset_key).await,
                _ => self.measure(&dataset, &dataset_key).await,
            };
        }
        if status.phase == "Moving" && status.target_node == self.me {
            self.start_move(dataset_key);
            return Ok(Action::Done);
        }
        if status.node.is_empty() {
            return Ok(Action::Done);
        }
        self.remove_copy(&dataset_key)
    }
}
