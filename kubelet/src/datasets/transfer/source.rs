//! What the kubelet tells the transfer service: where a dataset's directory
//! is, and whether a running container uses the dataset (which refuses the
//! final pass: its data could still change).

use super::DatasetKey;
use std::path::PathBuf;
use std::sync::Arc;

/// The kubelet's side of the source: a dataset's directory and its users.
pub trait DatasetSource: Send + Sync + 'static {
    /// The directory holding the dataset on this node; `None` when it is not here.
    fn directory(&self, key: &DatasetKey) -> Option<PathBuf>;

    /// Whether a running container on this node uses the dataset.
    fn in_use(&self, _key: &DatasetKey) -> bool {
        false
    }
}

/// Datasets at `<root>/<namespace>/<name>/` (the kubelet's `<root-dir>/datasets`).
pub struct RootDirSource {
    root: PathBuf,
    in_use: Arc<dyn Fn(&DatasetKey) -> bool + Send + Sync>,
}

impl RootDirSource {
    /// Datasets under `root`, none of them ever in use.
    pub fn new(root: impl Into<PathBuf>) -> RootDirSource {
        RootDirSource { root: root.into(), in_use: Arc::new(|_: &DatasetKey| false) }
    }

    /// The kubelet's predicate: is a running container using this dataset?
    pub fn with_in_use(mut self, in_use: impl Fn(&DatasetKey) -> bool + Send + Sync + 'static) -> RootDirSource {
        self.in_use = Arc::new(in_use);
        self
    }
}

impl DatasetSource for RootDirSource {
    fn directory(&self, key: &DatasetKey) -> Option<PathBuf> {
        key.validate().ok()?;
        let dir = self.root.join(&key.namespace).join(&key.name);
        dir.symlink_metadata().ok().filter(|metadata| metadata.is_dir()).map(|_| dir)
    }

    fn in_use(&self, key: &DatasetKey) -> bool {
        (self.in_use)(key)
    }
}
