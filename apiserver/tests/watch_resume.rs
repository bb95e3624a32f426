//! Watchers that fall behind the watch cache or behind etcd compaction are
//! told so (OUT_OF_RANGE) and recover by relisting: never a silent gap.

mod common;

use common::object;
use futures::StreamExt;
use rk_apiserver::storage::Storage;
use rk_apiserver::ServerConfig;
use rk_proto::v1::*;
use rk_proto::{Resource, ResourceList};
use rk_test_api::TestApi;
use std::time::Duration;
use tonic::Code;

fn pod(name: &str) -> Pod {
    let mut pod: Pod =
        object("{apiVersion: v1, kind: Pod, metadata: {name: x}, spec: {containers: [{name: c, image: hello}]}}");
    pod.metadata_mut().name = name.to_string();
    pod
}

#[tokio::test]
async fn a_watcher_behind_the_cache_window_is_told_to_relist_and_then_sees_everything() {
    let api = TestApi::start_with(ServerConfig { watch_cache_size: 10, ..Default::default() }).await;
    let old_rv = api.client.create(pod("first")).await.unwrap().metadata.unwrap().resource_version;
    for i in 0..30 {
        api.client.create(pod(&format!("p{i}"))).await.unwrap();
    }
    // The cache keeps 10 events; wait until it has moved past old_rv.
    let mut stream =
        api.client.watch::<Pod>(ListOptions { resource_version: old_rv.clone(), ..Default::default() }).await.unwrap();
    let error = tokio::time::timeout(Duration::from_secs(10), stream.next()).await.unwrap().unwrap().unwrap_err();
    assert_eq!(error.code(), Code::OutOfRange);
    assert!(error.message().contains("too old resource version"), "{}", error.message());

    // Relist, then watch from the list's revision: the next change arrives.
    let list = api.client.list::<Pod>(ListOptions::default()).await.unwrap();
    assert_eq!(list.items().len(), 31);
    let rv = list.list_meta().resource_version;
    let mut stream = api.client.watch::<Pod>(ListOptions { resource_version: rv, ..Default::default() }).await.unwrap();
    api.client.create(pod("after")).await.unwrap();
    let event = tokio::time::timeout(Duration::from_secs(10), stream.next()).await.unwrap().unwrap().unwrap();
    assert_eq!((event.r#type.as_str(), event.object.unwrap().metadata.unwrap().name.as_str()), ("ADDED", "after"));
}

#[tokio::test]
async fn a_list_at_a_compacted_revision_is_out_of_range() {
    let api = TestApi::start_with(ServerConfig::default()).await;
    let old_rv = api.client.create(pod("a")).await.unwrap().metadata.unwrap().resource_version;
    api.client.create(pod("b")).await.unwrap();
    let storage = api.storage().await;
    storage.compact(storage.current_revision().await.unwrap()).await.unwrap();
    let error =
        api.client.list::<Pod>(ListOptions { resource_version: old_rv, ..Default::default() }).await.unwrap_err();
    assert_eq!(error.code(), Code::OutOfRange, "{error:?}");
    // Paging through a compacted revision fails the same way.
    let first = api.client.list::<Pod>(ListOptions { limit: 1, ..Default::default() }).await.unwrap();
    api.client.create(pod("c")).await.unwrap();
    storage.compact(storage.current_revision().await.unwrap()).await.unwrap();
    let token = first.list_meta().r#continue;
    let error =
        api.client.list::<Pod>(ListOptions { limit: 1, r#continue: token, ..Default::default() }).await.unwrap_err();
    assert_eq!(error.code(), Code::OutOfRange);
    assert!(error.message().contains("continue token is too old"), "{}", error.message());
}
