//! `valueFrom.fieldRef`: the pod fields a container can read into its
//! environment (the downward API's env subset, as Kubernetes supports it).

use rk_proto::v1::Pod;

/// The field paths `resolve` understands, for error messages.
pub const SUPPORTED: &str = "metadata.name, metadata.namespace, metadata.uid, metadata.labels['<key>'], \
metadata.annotations['<key>'], spec.nodeName, status.podIP, status.hostIP";

/// The value of `path` for this pod; `None` when the path is not supported.
/// A missing label or annotation is the empty string, as in Kubernetes.
pub fn resolve(pod: &Pod, path: &str, pod_ip: &str, host_ip: &str) -> Option<String> {
    let meta = pod.metadata.clone().unwrap_or_default();
    let value = match path {
        "metadata.name" => meta.name,
        "metadata.namespace" => meta.namespace,
        "metadata.uid" => meta.uid,
        "spec.nodeName" => pod.spec.as_ref().map(|spec| spec.node_name.clone()).unwrap_or_default(),
        "status.podIP" => pod_ip.to_string(),
        "status.hostIP" => host_ip.to_string(),
        _ => {
            let (map, key) = subscript(path)?;
            let entries = match map {
                "metadata.labels" => meta.labels,
                "metadata.annotations" => meta.annotations,
                _ => return None,
            };
            entries.get(key).cloned().unwrap_or_default()
        }
    };
    Some(value)
}

/// `metadata.labels['app']` → (`metadata.labels`, `app`).
fn subscript(path: &str) -> Option<(&str, &str)> {
    let (map, rest) = path.split_once("['")?;
    let key = rest.strip_suffix("']")?;
    Some((map, key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::v1::{ObjectMeta, PodSpec};

    #[test]
    fn every_supported_path_and_some_that_are_not() {
        let pod = Pod {
            metadata: Some(ObjectMeta {
                name: "web-1".into(),
                namespace: "shop".into(),
                uid: "u-1".into(),
                labels: [("app".to_string(), "web".to_string())].into(),
                annotations: [("team".to_string(), "blue".to_string())].into(),
                ..Default::default()
            }),
            spec: Some(PodSpec { node_name: "node-a".into(), ..Default::default() }),
            ..Default::default()
        };
        let get = |path: &str| resolve(&pod, path, "10.244.0.5", "127.0.0.2");
        assert_eq!(get("metadata.name").as_deref(), Some("web-1"));
        assert_eq!(get("metadata.namespace").as_deref(), Some("shop"));
        assert_eq!(get("metadata.uid").as_deref(), Some("u-1"));
        assert_eq!(get("spec.nodeName").as_deref(), Some("node-a"));
        assert_eq!(get("status.podIP").as_deref(), Some("10.244.0.5"));
        assert_eq!(get("status.hostIP").as_deref(), Some("127.0.0.2"));
        assert_eq!(get("metadata.labels['app']").as_deref(), Some("web"));
        assert_eq!(get("metadata.labels['missing']").as_deref(), Some(""));
        assert_eq!(get("metadata.annotations['team']").as_deref(), Some("blue"));
        for unsupported in ["metadata.labels", "spec.containers", "metadata.labels[app]", "status.phase['x']", ""] {
            assert_eq!(get(unsupported), None, "{unsupported:?} is not supported");
        }
    }
}
