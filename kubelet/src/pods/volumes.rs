//! Pod volumes on the node: an emptyDir is a directory under the kubelet's
//! root that lives and dies with the pod; a hostPath is bind-mounted as is;
//! a dataset is its directory under `<root>/datasets`, which must exist (the
//! pod sync starts containers only once the dataset is Ready here).

use crate::datasets::paths::dataset_dir;
use crate::datasets::transfer::DatasetKey;
use crate::runtime::Mount;
use rk_proto::v1::{Container, Pod};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    #[error("container {container:?} mounts volume {volume:?}, which the pod does not define (volumes: {defined})")]
    Undefined { container: String, volume: String, defined: String },
    #[error("volume {volume:?}: only emptyDir, hostPath and dataset volumes are supported")]
    Unsupported { volume: String },
    #[error("volume {volume:?}: dataset {dataset:?} is not on this node ({path} is missing)")]
    DatasetMissing { volume: String, dataset: String, path: String },
    #[error("volume {volume:?}: creating {path}: {source}")]
    Io { volume: String, path: String, source: std::io::Error },
}

/// `<root>/pods/<uid>`: everything the kubelet keeps on disk for one pod.
pub fn pod_dir(root: &Path, pod_uid: &str) -> PathBuf {
    root.join("pods").join(pod_uid)
}

/// The bind mounts for one container, creating emptyDir directories as needed.
pub fn mounts(root: &Path, pod: &Pod, container: &Container) -> Result<Vec<Mount>, VolumeError> {
    let uid = pod.metadata.as_ref().map(|m| m.uid.as_str()).unwrap_or_default();
    let namespace = pod.metadata.as_ref().map(|m| m.namespace.as_str()).unwrap_or_default();
    let volumes = pod.spec.as_ref().map(|s| s.volumes.as_slice()).unwrap_or_default();
    container
        .volume_mounts
        .iter()
        .map(|mount| {
            let volume = volumes.iter().find(|v| v.name == mount.name).ok_or_else(|| VolumeError::Undefined {
                container: container.name.clone(),
                volume: mount.name.clone(),
                defined: volumes.iter().map(|v| v.name.as_str()).collect::<Vec<_>>().join(", "),
            })?;
            let mut source = if let Some(host_path) = &volume.host_path {
                PathBuf::from(&host_path.path)
            } else if let Some(dataset) = &volume.dataset {
                let dir = dataset_dir(root, &DatasetKey::new(namespace, dataset.name.as_str()));
                // Never an empty directory in place of the data.
                if !dir.is_dir() {
                    return Err(VolumeError::DatasetMissing {
                        volume: volume.name.clone(),
                        dataset: dataset.name.clone(),
                        path: dir.display().to_string(),
                    });
                }
                dir
            } else if volume.empty_dir.is_some() {
                pod_dir(root, uid).join("volumes").join("empty-dir").join(&volume.name)
            } else {
                return Err(VolumeError::Unsupported { volume: volume.name.clone() });
            };
            if !mount.sub_path.is_empty() {
                source = source.join(&mount.sub_path);
            }
            // Docker would create a missing bind source too, but owned by
            // root with default permissions and only at container start.
            std::fs::create_dir_all(&source).map_err(|e| VolumeError::Io {
                volume: volume.name.clone(),
                path: source.display().to_string(),
                source: e,
            })?;
            Ok(Mount {
                host_path: source.display().to_string(),
                container_path: mount.mount_path.clone(),
                read_only: mount.read_only,
            })
        })
        .collect()
}

/// Removes the pod's directory (its emptyDirs); hostPath data is untouched.
pub fn remove_pod_dir(root: &Path, pod_uid: &str) -> std::io::Result<()> {
    match std::fs::remove_dir_all(pod_dir(root, pod_uid)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::v1::{EmptyDirVolumeSource, HostPathVolumeSource, ObjectMeta, PodSpec, Volume, VolumeMount};

    fn pod(volumes: Vec<Volume>) -> Pod {
        Pod {
            metadata: Some(ObjectMeta { uid: "u1".into(), ..Default::default() }),
            spec: Some(PodSpec { volumes, ..Default::default() }),
            ..Default::default()
        }
    }

    fn mount(name: &str, path: &str) -> VolumeMount {
        VolumeMount { name: name.into(), mount_path: path.into(), ..Default::default() }
    }

    #[test]
    fn empty_dir_lives_under_the_pod_dir_and_goes_with_it() {
        let root = tempfile::tempdir().unwrap();
        let pod = pod(vec![Volume {
            name: "scratch".into(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Default::default()
        }]);
        let c = Container { volume_mounts: vec![mount("scratch", "/data")], ..Default::default() };
        let mounts = mounts(root.path(), &pod, &c).unwrap();
        assert_eq!(mounts[0].container_path, "/data");
        assert!(Path::new(&mounts[0].host_path).is_dir());
        assert!(mounts[0].host_path.starts_with(&pod_dir(root.path(), "u1").display().to_string()));
        remove_pod_dir(root.path(), "u1").unwrap();
        assert!(!Path::new(&mounts[0].host_path).exists());
        remove_pod_dir(root.path(), "u1").unwrap();
    }

    #[test]
    fn host_path_is_bound_as_is_and_survives_pod_removal() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("host-data");
        let source = HostPathVolumeSource { path: data.display().to_string(), ..Default::default() };
        let pod = pod(vec![Volume { name: "data".into(), host_path: Some(source), ..Default::default() }]);
        let c = Container {
            volume_mounts: vec![VolumeMount { read_only: true, ..mount("data", "/d") }],
            ..Default::default()
        };
        let mounts = mounts(root.path(), &pod, &c).unwrap();
        assert_eq!(mounts[0].host_path, data.display().to_string());
        assert!(mounts[0].read_only);
        remove_pod_dir(root.path(), "u1").unwrap();
        assert!(data.is_dir());
    }

    #[test]
    fn a_dataset_is_its_directory_and_never_made_empty() {
        use rk_proto::v1::DatasetVolumeSource;
        let root = tempfile::tempdir().unwrap();
        let mut pod = pod(vec![Volume {
            name: "data".into(),
            dataset: Some(DatasetVolumeSource { name: "db".into() }),
            ..Default::default()
        }]);
        pod.metadata.as_mut().unwrap().namespace = "default".into();
        let c = Container { volume_mounts: vec![mount("data", "/data")], ..Default::default() };
        let error = mounts(root.path(), &pod, &c).unwrap_err().to_string();
        assert!(error.contains("dataset \"db\" is not on this node"), "{error}");
        assert!(!root.path().join("datasets/default/db").exists());
        std::fs::create_dir_all(root.path().join("datasets/default/db")).unwrap();
        let mounts = mounts(root.path(), &pod, &c).unwrap();
        assert_eq!(mounts[0].host_path, root.path().join("datasets/default/db").display().to_string());
        remove_pod_dir(root.path(), "u1").unwrap();
        assert!(root.path().join("datasets/default/db").is_dir(), "the data outlives the pod");
    }

    #[test]
    fn an_undefined_volume_is_named_in_the_error() {
        let root = tempfile::tempdir().unwrap();
        let c = Container { name: "app".into(), volume_mounts: vec![mount("nope", "/x")], ..Default::default() };
        let error = mounts(root.path(), &pod(vec![]), &c).unwrap_err().to_string();
        assert!(error.contains("\"nope\"") && error.contains("\"app\""), "{error}");
    }
}
