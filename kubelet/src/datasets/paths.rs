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

/// Seeds a move's staging directory with a copy this node still has (a
/// kubelet killed between the rename into place and the status flip, or an
/// old copy not yet removed): the pull then fetches only what differs, and
/// verifies the whole against the source as always. Whether it did.
pub fn seed_staging(root: &Path, key: &DatasetKey) -> std::io::Result<bool> {
    let (staging, copy) = (staging_dir(root, key), dataset_dir(root, key));
    if staging.exists() || !copy.is_dir() {
        return Ok(false);
    }
    if let Some(parent) = staging.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::rename(&copy, &staging)?;
    Ok(true)
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

    #[test]
    fn a_copy_here_seeds_the_staging_directory_unless_one_is_there() {
        let root = tempfile::tempdir().unwrap();
        let key = DatasetKey::new("default", "db");
        assert!(!seed_staging(root.path(), &key).unwrap(), "nothing to seed from");
        let (copy, staging) = (dataset_dir(root.path(), &key), staging_dir(root.path(), &key));
        std::fs::create_dir_all(&copy).unwrap();
        std::fs::write(copy.join("f"), b"old").unwrap();
        assert!(seed_staging(root.path(), &key).unwrap());
        assert_eq!(std::fs::read(staging.join("f")).unwrap(), b"old");
        assert!(!copy.exists());
        std::fs::create_dir_all(&copy).unwrap();
        assert!(!seed_staging(root.path(), &key).unwrap(), "a staging directory is resumed as it is");
        assert!(copy.exists());
    }
}
