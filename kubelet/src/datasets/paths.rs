//! Where datasets live on the node: `<root-dir>/datasets/<namespace>/<name>`,
//! and a move's staging directory `<root-dir>/datasets/.incoming/<namespace>/<name>`
//! (`.incoming` is no namespace name, so the two never meet).

use super::transfer::DatasetKey;
use std::path::{Path, PathBuf};

/// `<root-dir>/datasets`: what the transfer service serves from.
pub fn datasets_root(root: &Path) -> PathBuf {
    root.join("datasets")
}

pub fn dataset_dir(root: &Path, key: &DatasetKey) -> PathBuf {
    datasets_root(root).join(&key.namespace).join(&key.name)
}

pub fn staging_dir(root: &Path, key: &DatasetKey) -> PathBuf {
    datasets_root(root).join(".incoming").join(&key.namespace).join(&key.name)
}

/// Removes a directory tree if it is there.
pub fn remove_tree(path: &Path) -> std::io::Result<bool> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// The bytes a tree takes on disk (allocated blocks, so sparse files count what they hold).
pub fn disk_usage(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(metadata) = path.symlink_metadata() else { return 0 };
    let own = metadata.blocks() * 512;
    if !metadata.is_dir() {
        return own;
    }
    let children = std::fs::read_dir(path).into_iter().flatten().flatten();
    own + children.map(|entry| disk_usage(&entry.path())).sum::<u64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_and_staging_are_apart_and_usage_counts_blocks() {
        let root = tempfile::tempdir().unwrap();
        let key = DatasetKey::new("default", "db");
        assert_eq!(dataset_dir(root.path(), &key), root.path().join("datasets/default/db"));
        assert_eq!(staging_dir(root.path(), &key), root.path().join("datasets/.incoming/default/db"));
        let dir = dataset_dir(root.path(), &key);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/f"), vec![1u8; 100_000]).unwrap();
        let sparse = std::fs::File::create(dir.join("sparse")).unwrap();
        sparse.set_len(1 << 30).unwrap();
        let used = disk_usage(&dir);
        assert!((100_000..1 << 20).contains(&used), "{used}");
        assert!(remove_tree(&dir).unwrap());
        assert!(!remove_tree(&dir).unwrap());
    }
}
