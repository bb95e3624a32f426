//! The Node's kubelet endpoint keeps Kubernetes' JSON names, `Port` capitalised.

use rk_proto::v1::{DaemonEndpoint, Node, NodeDaemonEndpoints, NodeStatus};

#[test]
fn daemon_endpoints_use_kubernetes_json_names() {
    let node = Node {
        status: Some(NodeStatus {
            daemon_endpoints: Some(NodeDaemonEndpoints { kubelet_endpoint: Some(DaemonEndpoint { port: 10250 }) }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let json = serde_json::to_value(&node).unwrap();
    assert_eq!(json, serde_json::json!({"status": {"daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}}}));
    let back: Node = serde_json::from_value(json).unwrap();
    assert_eq!(back, node);
}
