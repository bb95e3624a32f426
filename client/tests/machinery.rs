//! Informers, the controller loop, events and leader election against a real
//! apiserver on a real etcd.

use rk_client::events::EventType;
use rk_client::leader::LeaderElection;
use rk_client::{Change, EventRecorder, Informer};
use rk_proto::v1::*;
use rk_proto::{Resource, ResourceList};
use rk_test_api::TestApi;
use rk_testkit::eventually;
use std::future::ready;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WITHIN: Duration = Duration::from_secs(10);

fn node(name: &str) -> Node {
    Node { metadata: Some(ObjectMeta { name: name.into(), ..Default::default() }), ..Default::default() }
}

#[tokio::test]
async fn an_informer_mirrors_the_apiserver_and_reports_every_change() {
    let api = TestApi::start().await;
    let client = &api.client;
    client.create(node("before")).await.unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let informer = Informer::<Node>::new(client.clone(), ListOptions::default())
        .resync_every(Duration::from_millis(300))
        .on_change({
            let seen = Arc::clone(&seen);
            move |change| {
                let kind = match change {
                    Change::Added(_) => "added",
                    Change::Updated { old, new } if Arc::ptr_eq(old, new) => "resync",
                    Change::Updated { .. } => "updated",
                    Change::Deleted(_) => "deleted",
                };
                seen.lock().unwrap().push((kind, change.object().metadata().name.clone()));
            }
        })
        .start();
    informer.wait_synced().await;
    assert!(informer.store.get("before").is_some());
    let mut created = client.create(node("n1")).await.unwrap();
    created.metadata_mut().labels.insert("disktype".into(), "ssd".into());
    client.update(created).await.unwrap();
    client.delete::<Node>(DeleteRequest { name: "before".into(), ..Default::default() }).await.unwrap();
    let has = |kind: &str, name: &str| seen.lock().unwrap().iter().any(|(k, n)| *k == kind && n == name);
    let all_seen = || has("added", "before") && has("added", "n1") && has("updated", "n1") && has("deleted", "before");
    eventually("every change", WITHIN, || ready(all_seen().then_some(()))).await;
    eventually("a resync", WITHIN, || ready(has("resync", "n1").then_some(()))).await;
    assert!(informer.store.get("before").is_none());
    assert_eq!(informer.store.get("n1").unwrap().metadata().labels["disktype"], "ssd");
}

#[tokio::test]
async fn events_are_recorded_and_repeats_are_counted() {
    let api = TestApi::start().await;
    let client = &api.client;
    let pod = client
        .create(Pod {
            metadata: Some(ObjectMeta { name: "web".into(), ..Default::default() }),
            spec: Some(PodSpec {
                containers: vec![Container { name: "c".into(), image: "x:1".into(), ..Default::default() }],
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    let recorder = EventRecorder::new(client.clone(), "test", "host1");
    recorder.record(&pod, EventType::Warning, "FailedScheduling", "0/1 nodes are available");
    let events = || async { client.list::<Event>(ListOptions::default()).await.unwrap().into_items() };
    let deadline = Instant::now() + Duration::from_secs(10);
    while events().await.is_empty() {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    recorder.record(&pod, EventType::Warning, "FailedScheduling", "0/1 nodes are available");
    loop {
        let all = events().await;
        assert_eq!(all.len(), 1, "repeats fold into one event");
        let event = &all[0];
        assert_eq!(event.involved_object.as_ref().unwrap().name, "web");
        assert_eq!((event.r#type.as_str(), event.reason.as_str()), ("Warning", "FailedScheduling"));
        if event.count == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "count never reached 2");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn one_leader_at_a_time_and_a_stand_by_takes_over() {
    let api = TestApi::start().await;
    let client = &api.client;
    let election = |identity: &str| LeaderElection {
        client: client.clone(),
        namespace: "kube-system".into(),
        name: "rk-test".into(),
        identity: identity.into(),
        lease: Duration::from_secs(2),
        retry: Duration::from_millis(200),
    };
    let first = election("first").acquire().await;
    let mut second = tokio::spawn(election("second").acquire());
    let waited = tokio::time::timeout(Duration::from_millis(2500), &mut second).await;
    assert!(waited.is_err(), "the stand-by must not lead while the leader renews (longer than a lease)");
    drop(first); // the leader stops renewing, as if it had exited
    let lost = tokio::time::timeout(Duration::from_secs(10), second).await.expect("stand-by takes over").unwrap();
    assert!(!*lost.borrow());
    let record: Endpoints = client.get("kube-system", "rk-test").await.unwrap();
    assert!(
        record.metadata().annotations[rk_client::leader::LEADER_ANNOTATION].contains("\"holderIdentity\":\"second\"")
    );
}
