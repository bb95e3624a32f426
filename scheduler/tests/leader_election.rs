//! Schedulers with leader election: one schedules, the other stands by and
//! takes over; a scheduler that loses its lease stops with an error.

mod common;

use common::node_name;
use rk_client::leader::LEADER_ANNOTATION;
use rk_client::Client;
use rk_proto::v1::{Endpoints, Pod};
use rk_proto::Resource;
use rk_scheduler::options::{LEADER_LOCK_NAME, LEADER_LOCK_NAMESPACE};
use rk_scheduler::testing::{node, pod};
use rk_scheduler::{LeaderElection, Metrics, Options, Scheduler, SchedulerError};
use rk_test_api::TestApi;
use rk_testkit::eventually;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

const WITHIN: Duration = Duration::from_secs(30);

fn elected(client: &Client, identity: &str) -> (Arc<Metrics>, JoinHandle<Result<(), SchedulerError>>) {
    let options = Options {
        leader_election: Some(LeaderElection {
            identity: identity.into(),
            lease: Duration::from_secs(2),
            retry: Duration::from_millis(200),
        }),
        ..Options::default()
    };
    let scheduler = Scheduler::new(client.clone(), options);
    let metrics = scheduler.metrics();
    (metrics, tokio::spawn(scheduler.run(std::future::pending())))
}

async fn wait_bound(client: &Client, name: &str) {
    eventually(&format!("{name} to be bound"), WITHIN, || async {
        let pod: Pod = client.get("default", name).await.unwrap();
        (!node_name(&pod).is_empty()).then_some(())
    })
    .await;
}

#[tokio::test]
async fn the_stand_by_takes_over_when_the_leader_goes() {
    let cluster = TestApi::start().await;
    let client = &cluster.client;
    client.create(node("n1", &[("cpu", "4"), ("pods", "110")])).await.unwrap();
    let (a, a_task) = elected(client, "a");
    let (b, b_task) = elected(client, "b");
    client.create(pod("first", &[], &[])).await.unwrap();
    wait_bound(client, "first").await;
    let attempts = |m: &Metrics| m.attempts.load(Relaxed);
    assert!((attempts(&a) == 0) != (attempts(&b) == 0), "exactly one scheduler works");
    let (leader, stand_by, stand_by_task) = if attempts(&a) > 0 { (a_task, b, b_task) } else { (b_task, a, a_task) };

    leader.abort(); // stops renewing: the stand-by takes over once the lease runs out
    client.create(pod("second", &[], &[])).await.unwrap();
    wait_bound(client, "second").await;
    assert_eq!(stand_by.bound.load(Relaxed), 1, "the former stand-by bound the second pod");
    assert!(!stand_by_task.is_finished());
}

#[tokio::test]
async fn a_scheduler_that_loses_its_lease_stops_with_an_error() {
    let cluster = TestApi::start().await;
    let client = &cluster.client;
    let (_, task) = elected(client, "a");
    eventually("the lock to be taken", WITHIN, || async {
        client.get::<Endpoints>(LEADER_LOCK_NAMESPACE, LEADER_LOCK_NAME).await.ok()
    })
    .await;
    // Another instance takes the lock over, as if ours had stalled past its lease.
    let now = rk_proto::time::now();
    let record = format!(
        r#"{{"holderIdentity":"intruder","leaseDurationSeconds":60,"acquireTime":"{now}","renewTime":"{now}"}}"#
    );
    eventually("the lock to be taken over", WITHIN, || async {
        let mut lock: Endpoints = client.get(LEADER_LOCK_NAMESPACE, LEADER_LOCK_NAME).await.unwrap();
        lock.metadata_mut().annotations.insert(LEADER_ANNOTATION.into(), record.clone());
        // A conflict means our scheduler renewed in between: try again on the fresh object.
        client.update(lock).await.ok()
    })
    .await;
    let result = tokio::time::timeout(WITHIN, task).await.expect("the scheduler stops").unwrap();
    assert!(matches!(result, Err(SchedulerError::LostLeadership { .. })), "{result:?}");
}
