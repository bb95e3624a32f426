//! Datasets and pods' dataset volumes in manifests: JSON and YAML, the JSON
//! names Kubernetes-style clients see, and unknown fields named.

use rk_proto::manifest::{decode_manifests, DecodeOptions, Object};
use rk_proto::v1::{Dataset, DatasetMove, DatasetSpec, DatasetStatus};
use rk_proto::Resource;
use serde_json::json;

fn decode(text: &str) -> Vec<Object> {
    decode_manifests(text, DecodeOptions::default()).unwrap().objects
}

#[test]
fn a_dataset_decodes_from_yaml_and_json() {
    let yaml = "apiVersion: v1\nkind: Dataset\nmetadata:\n  name: redis-data\n  namespace: shop\nspec:\n  primary: node1\n  sizeLimit: 10Gi\n";
    let json = r#"{"apiVersion":"v1","kind":"Dataset","metadata":{"name":"redis-data","namespace":"shop"},"spec":{"primary":"node1","sizeLimit":"10Gi"}}"#;
    for text in [yaml, json] {
        let objects = decode(text);
        let [Object::Dataset(dataset)] = objects.as_slice() else { panic!("{objects:?}") };
        assert_eq!((dataset.metadata().name.as_str(), dataset.metadata().namespace.as_str()), ("redis-data", "shop"));
        assert_eq!(dataset.spec, Some(DatasetSpec { primary: "node1".into(), size_limit: "10Gi".into() }));
        assert_eq!(objects[0].kind(), "Dataset");
    }
}

#[test]
fn dataset_status_uses_kubernetes_json_names() {
    let dataset = Dataset {
        status: Some(DatasetStatus {
            node: "node2".into(),
            phase: "Moving".into(),
            target_node: "node1".into(),
            bytes_used: 1 << 30,
            last_move: Some(DatasetMove {
                from: "node1".into(),
                to: "node2".into(),
                started: "2024-05-01T12:00:00Z".into(),
                finished: "2024-05-01T12:00:09Z".into(),
                duration_ms: 9000,
                downtime_ms: 1200,
                bytes_sent: 1 << 30,
            }),
            message: "moving to node1".into(),
            reason: "PrimaryChanged".into(),
        }),
        ..Default::default()
    };
    let value = serde_json::to_value(&dataset).unwrap();
    assert_eq!(
        value["status"],
        json!({"node": "node2", "phase": "Moving", "targetNode": "node1", "bytesUsed": 1073741824,
               "lastMove": {"from": "node1", "to": "node2", "started": "2024-05-01T12:00:00Z",
                            "finished": "2024-05-01T12:00:09Z", "durationMs": 9000, "downtimeMs": 1200,
                            "bytesSent": 1073741824},
               "message": "moving to node1", "reason": "PrimaryChanged"})
    );
    assert_eq!(serde_json::from_value::<Dataset>(value).unwrap(), dataset);
}

#[test]
fn a_pod_names_its_dataset_in_a_volume() {
    let objects = decode(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: redis}\nspec:\n  volumes:\n  - name: data\n    dataset: {name: redis-data}\n  containers:\n  - {name: redis, image: rk/redis:7, volumeMounts: [{name: data, mountPath: /data}]}\n",
    );
    let [Object::Pod(pod)] = objects.as_slice() else { panic!("{objects:?}") };
    let volume = &pod.spec.as_ref().unwrap().volumes[0];
    assert_eq!(volume.dataset.as_ref().unwrap().name, "redis-data");
    assert!(volume.empty_dir.is_none() && volume.host_path.is_none());
}

#[test]
fn unknown_dataset_fields_are_named() {
    let typo = "apiVersion: v1\nkind: Dataset\nmetadata: {name: d}\nspec: {primaryNode: node1, sizeLimit: 1Gi}\n";
    let message = decode_manifests(typo, DecodeOptions::default()).unwrap_err().to_string();
    assert!(message.contains("\"spec.primaryNode\""), "{message}");
    let volume = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  volumes: [{name: v, dataset: {name: d, node: x}}]\n  containers: [{name: c, image: x}]\n";
    let message = decode_manifests(volume, DecodeOptions::default()).unwrap_err().to_string();
    assert!(message.contains("\"spec.volumes[0].dataset.node\""), "{message}");
}

#[test]
fn a_list_of_datasets_decodes() {
    let objects = decode(
        r#"{"apiVersion":"v1","kind":"DatasetList","items":[{"apiVersion":"v1","kind":"Dataset","metadata":{"name":"a"}},{"apiVersion":"v1","kind":"Dataset","metadata":{"name":"b"}}]}"#,
    );
    let names: Vec<_> = objects.iter().map(|o| o.metadata().name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
}
