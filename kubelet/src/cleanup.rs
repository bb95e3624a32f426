//! `rk-kubelet --cleanup`: removes everything this node's kubelet made in
//! the runtime and on disk (its pods' containers, its pod network, emptyDir
//! volumes), for `rkctl cluster down` and for decommissioning a node.

use crate::config::KubeletConfig;
use crate::runtime::{ContainerRuntime, RuntimeError};
use std::time::Duration;

pub async fn remove_everything(config: &KubeletConfig, runtime: &dyn ContainerRuntime) -> Result<usize, RuntimeError> {
    let containers = runtime.list_containers().await?;
    // Apps before the sandboxes whose namespaces they use.
    let (sandboxes, apps): (Vec<_>, Vec<_>) = containers.iter().partition(|c| c.is_sandbox());
    for c in apps.iter().chain(sandboxes.iter()) {
        runtime.stop_container(&c.id, Duration::ZERO).await?;
        runtime.remove_container(&c.id).await?;
    }
    runtime.remove_network(&config.pod_network).await?;
    let pods_dir = config.root_dir.join("pods");
    match std::fs::remove_dir_all(&pods_dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(RuntimeError::Other(format!("removing {}: {e}", pods_dir.display())))
        }
        _ => {}
    }
    Ok(containers.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::fake::FakeRuntime;
    use crate::runtime::{PodNetwork, SandboxConfig};

    #[tokio::test]
    async fn removes_every_container_of_the_node_and_the_pod_directories() {
        let root = tempfile::tempdir().unwrap();
        let mut config = KubeletConfig::new("n1");
        config.root_dir = root.path().to_path_buf();
        std::fs::create_dir_all(root.path().join("pods/uid-1/volumes")).unwrap();
        let runtime = FakeRuntime::new();
        let sandbox = SandboxConfig {
            pod_uid: "uid-1".into(),
            namespace: "default".into(),
            pod_name: "web".into(),
            hostname: "web".into(),
            network: PodNetwork::Bridge("rk-pods".into()),
            port_mappings: Vec::new(),
            image: "rk/pause:3.9".into(),
            attempt: 0,
        };
        runtime.run_sandbox(&sandbox).await.unwrap();
        assert_eq!(remove_everything(&config, &runtime).await.unwrap(), 1);
        assert!(runtime.list_containers().await.unwrap().is_empty());
        assert!(!root.path().join("pods").exists());
    }
}
