//! Datasets: data that lives on one node at a time and moves with its pod
//! (issue 8). On this node a dataset is the directory
//! `<root-dir>/datasets/<namespace>/<name>`, bind-mounted into the pods that
//! use it once it is Ready here (`gate`).
//!
//! - `holder`: per dataset: create one placed here, measure `bytesUsed`,
//!   start a move here, remove the copy another node holds now;
//! - `mover`: pulls a dataset Moving here from its node (`transfer/`) and flips its status;
//! - `users`: which datasets running containers use (the source refuses a
//!   final pass while the old pod runs);
//! - `transfer/`: the kubelet-to-kubelet DatasetTransfer service and pull.

pub mod gate;
mod holder;
mod mover;
pub mod paths;
mod source_node;
pub mod transfer;
pub mod users;

use crate::config::KubeletConfig;
use holder::DatasetHolder;
use mover::Mover;
use rk_client::{run_controller, Client, EventRecorder, InformerHandle, WorkQueue};
use rk_proto::v1::{Dataset, Pod};
use std::sync::Arc;
use tokio::task::JoinHandle;
pub use users::DatasetUsers;

/// What the kubelet's datasets share with the rest of it: the in-use record
/// the transfer service asks, and the token other kubelets accept.
#[derive(Clone, Default)]
pub struct DatasetSettings {
    pub users: Arc<DatasetUsers>,
    pub token: String,
}

/// Runs the per-dataset reconcile over `datasets` (an informer of every dataset).
pub fn start(
    config: &KubeletConfig,
    client: Client,
    settings: &DatasetSettings,
    datasets: &InformerHandle<Dataset>,
    queue: Arc<WorkQueue>,
) -> JoinHandle<()> {
    let recorder = EventRecorder::new(client.clone(), "kubelet", &config.node_name);
    let mover = Arc::new(Mover {
        client: client.clone(),
        recorder: recorder.clone(),
        me: config.node_name.clone(),
        root: config.root_dir.clone(),
        token: settings.token.clone(),
    });
    let holder = DatasetHolder {
        client,
        recorder,
        me: config.node_name.clone(),
        root: config.root_dir.clone(),
        datasets: Arc::clone(&datasets.store),
        users: Arc::clone(&settings.users),
        mover,
        moving: Default::default(),
    };
    tokio::spawn(run_controller(queue, Arc::new(holder), 2))
}

/// The pods of `pods` that use the dataset `namespace/name`.
pub fn pods_using<'a>(pods: &'a [Arc<Pod>], namespace: &'a str, name: &'a str) -> impl Iterator<Item = &'a Arc<Pod>> {
    pods.iter().filter(move |pod| gate::datasets_of(pod).iter().any(|k| k.namespace == namespace && k.name == name))
}
