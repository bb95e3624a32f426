//! Datasets through the apiserver on a real etcd: create, get, list, watch,
//! status only through UpdateStatus, validation with field paths, and pods
//! whose dataset volumes are checked.

mod common;

use common::object;
use futures::StreamExt;
use rk_proto::v1::*;
use rk_proto::{Resource, ResourceList};
use rk_test_api::TestApi;
use std::time::Duration;
use tonic::Code;

fn dataset(name: &str, primary: &str) -> Dataset {
    object(&format!(
        "{{apiVersion: v1, kind: Dataset, metadata: {{name: {name}}}, spec: {{primary: '{primary}', sizeLimit: 10Gi}}}}"
    ))
}

fn ready_on(node: &str) -> DatasetStatus {
    DatasetStatus { node: node.into(), phase: "Ready".into(), bytes_used: 4096, ..Default::default() }
}

#[tokio::test]
async fn datasets_are_created_listed_watched_and_their_status_is_written_apart() {
    let api = TestApi::start().await;
    let start_rv = api.client.list::<Dataset>(ListOptions::default()).await.unwrap().list_meta().resource_version;
    let mut submitted = dataset("redis-data", "node1");
    submitted.status = Some(ready_on("node9"));
    let created = api.client.create(submitted).await.unwrap();
    assert_eq!(created.metadata().namespace, "default");
    assert_eq!(created.status, None, "a new dataset's status is the controller's to write");
    assert_eq!(created.spec.as_ref().unwrap().size_limit, "10Gi");
    assert_eq!(api.client.get::<Dataset>("default", "redis-data").await.unwrap(), created);
    api.client.create(dataset("scratch", "")).await.unwrap();

    // An ordinary update keeps the status; UpdateStatus keeps the spec.
    let mut with_status = created.clone();
    with_status.status = Some(ready_on("node1"));
    with_status.spec.as_mut().unwrap().primary = "node2".into();
    let status_written = api.client.update_status(with_status).await.unwrap();
    assert_eq!(status_written.status, Some(ready_on("node1")));
    assert_eq!(status_written.spec.as_ref().unwrap().primary, "node1", "UpdateStatus keeps the spec");
    let mut moved = status_written.clone();
    moved.spec.as_mut().unwrap().primary = "node2".into();
    moved.status = None;
    let updated = api.client.update(moved).await.unwrap();
    assert_eq!(updated.spec.as_ref().unwrap().primary, "node2");
    assert_eq!(updated.status, Some(ready_on("node1")), "an update keeps the status");
    assert_eq!(updated.metadata().generation, 2);

    // Field selectors name where a dataset should be and where it is.
    let select = |fields: &str| ListOptions { field_selector: fields.into(), ..Default::default() };
    let names =
        |list: DatasetList| list.into_items().into_iter().map(|d| d.metadata().name.clone()).collect::<Vec<_>>();
    assert_eq!(names(api.client.list::<Dataset>(select("status.node=node1")).await.unwrap()), ["redis-data"]);
    assert_eq!(names(api.client.list::<Dataset>(select("spec.primary=")).await.unwrap()), ["scratch"]);
    assert_eq!(names(api.client.list::<Dataset>(ListOptions::default()).await.unwrap()), ["redis-data", "scratch"]);

    let deleted = api
        .client
        .delete::<Dataset>(DeleteRequest { namespace: "default".into(), name: "scratch".into(), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(deleted.metadata().name, "scratch");
    let mut stream =
        api.client.watch::<Dataset>(ListOptions { resource_version: start_rv, ..Default::default() }).await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < 5 {
        let event = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("event in time")
            .unwrap()
            .unwrap();
        seen.push(format!("{} {}", event.r#type, event.object.unwrap().metadata().name));
    }
    assert_eq!(
        seen,
        ["ADDED redis-data", "ADDED scratch", "MODIFIED redis-data", "MODIFIED redis-data", "DELETED scratch"]
    );
}

#[tokio::test]
async fn invalid_datasets_are_refused_with_every_bad_field() {
    let api = TestApi::start().await;
    let bad: Dataset = object(
        "{apiVersion: v1, kind: Dataset, metadata: {name: Bad_Name}, spec: {primary: 'Node 1', sizeLimit: lots}}",
    );
    let error = api.client.create(bad).await.unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument);
    for field in ["metadata.name", "spec.primary", "spec.sizeLimit"] {
        assert!(error.message().contains(field), "{field} missing from: {}", error.message());
    }
    assert!(api.client.list::<Dataset>(ListOptions::default()).await.unwrap().items().is_empty());

    let mut created = api.client.create(dataset("data", "")).await.unwrap();
    created.status = Some(DatasetStatus { phase: "Lost".into(), target_node: "Node_2".into(), ..Default::default() });
    let error = api.client.update_status(created).await.unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument);
    for expected in ["status.phase: Unsupported value: \"Lost\"", "status.targetNode", "status.node: Required value"] {
        assert!(error.message().contains(expected), "{expected} missing from: {}", error.message());
    }
}

#[tokio::test]
async fn pods_with_bad_dataset_volumes_are_refused() {
    let api = TestApi::start().await;
    let pod = |volumes: &str| -> Pod {
        object(&format!(
            "{{apiVersion: v1, kind: Pod, metadata: {{name: db}}, spec: {{volumes: {volumes}, containers: [{{name: db, image: redis, volumeMounts: [{{name: data, mountPath: /data}}]}}]}}}}"
        ))
    };
    let error = api
        .client
        .create(pod(
            "[{name: data, dataset: {name: Redis.Data}}, {name: both, dataset: {name: x}, hostPath: {path: /x}}]",
        ))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument);
    for expected in [
        "spec.volumes[0].dataset.name: Invalid value: \"Redis.Data\"",
        "spec.volumes[1].dataset: Forbidden: may not specify more than 1 volume type",
    ] {
        assert!(error.message().contains(expected), "{expected} missing from: {}", error.message());
    }
    let error = api.client.create(pod("[{name: data, dataset: {}}]")).await.unwrap_err();
    assert!(error.message().contains("spec.volumes[0].dataset.name: Required value"), "{}", error.message());

    let created = api.client.create(pod("[{name: data, dataset: {name: redis-data}}]")).await.unwrap();
    let volume = &created.spec.as_ref().unwrap().volumes[0];
    assert_eq!(volume.dataset.as_ref().unwrap().name, "redis-data");
    assert_eq!(volume.empty_dir, None);
}
