//! Garbage collection on a real etcd and apiserver: deleting a
//! ReplicationController deletes the pods it owns, `--cascade=orphan` leaves
//! them without their ownerReference, and a dependent survives while any of
//! its owners exists.

mod common;

use common::{test_settings, ControllerProcess};
use rk_client::{Client, KindClient};
use rk_controller_manager::garbage_collector;
use rk_proto::v1::*;
use rk_proto::Resource;
use rk_test_api::TestApi;
use rk_testkit::eventually;
use std::time::Duration;
use tonic::Code;

const PATIENCE: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owners_deleted_in_background_take_their_dependents_and_orphaning_owners_release_them() {
    let api = TestApi::start().await;
    let client = &api.client;
    let _gc =
        ControllerProcess::start(&api.address, test_settings(), |ctx| async move { garbage_collector::start(&ctx) });

    let web = client.create(controller("web")).await.unwrap();
    let db = client.create(controller("db")).await.unwrap();
    let keep = client.create(controller("keep")).await.unwrap();
    for name in ["web-1", "web-2"] {
        client.create(pod(name, &[&web])).await.unwrap();
    }
    for name in ["db-1", "db-2"] {
        client.create(pod(name, &[&db])).await.unwrap();
    }
    client.create(pod("shared", &[&web, &keep])).await.unwrap();
    client.create(pod("unowned", &[])).await.unwrap();
    // Owned by a namesake of "keep" that no longer exists: another uid is another object.
    let mut namesake = keep.clone();
    namesake.metadata_mut().uid = "5d0c1d5e-0000-4000-8000-000000000000".into();
    client.create(pod("stray", &[&namesake])).await.unwrap();
    eventually("the pod whose owner never existed deleted", PATIENCE, || gone::<Pod>(client, "stray")).await;

    client.delete::<ReplicationController>(delete("web", "")).await.unwrap();
    for name in ["web-1", "web-2"] {
        eventually(&format!("{name} deleted with its owner"), PATIENCE, || gone::<Pod>(client, name)).await;
    }

    let orphaning: ReplicationController = client.delete(delete("db", "Orphan")).await.unwrap();
    assert_eq!(orphaning.metadata().finalizers, ["orphan"]);
    eventually("db deleted once its pods are released", PATIENCE, || gone::<ReplicationController>(client, "db")).await;
    for name in ["db-1", "db-2"] {
        let orphan: Pod = client.get("default", name).await.expect("an orphaned pod stays");
        assert!(orphan.metadata().owner_references.is_empty(), "{name} still names its deleted owner");
    }

    let shared: Pod = client.get("default", "shared").await.expect("a pod with a living owner stays");
    let owners: Vec<_> = shared.metadata().owner_references.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(owners, ["web", "keep"]);
    client.get::<Pod>("default", "unowned").await.expect("a pod without owners is no garbage");
}

fn meta(name: &str) -> Option<ObjectMeta> {
    Some(ObjectMeta { name: name.into(), namespace: "default".into(), ..Default::default() })
}

fn pod_spec() -> Option<PodSpec> {
    Some(PodSpec {
        containers: vec![Container { name: "app".into(), image: "app:1".into(), ..Default::default() }],
        ..Default::default()
    })
}

/// A controller with no replicas: none of its pods come from a replication controller.
fn controller(name: &str) -> ReplicationController {
    let labels: std::collections::BTreeMap<_, _> = [("app".to_string(), name.to_string())].into();
    ReplicationController {
        metadata: meta(name),
        spec: Some(ReplicationControllerSpec {
            replicas: Some(0),
            selector: labels.clone(),
            template: Some(PodTemplateSpec {
                metadata: Some(ObjectMeta { labels, ..Default::default() }),
                spec: pod_spec(),
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn pod(name: &str, owners: &[&ReplicationController]) -> Pod {
    let mut pod = Pod { metadata: meta(name), spec: pod_spec(), ..Default::default() };
    pod.metadata_mut().owner_references = owners
        .iter()
        .map(|owner| OwnerReference {
            api_version: "v1".into(),
            kind: "ReplicationController".into(),
            name: owner.metadata().name.clone(),
            uid: owner.metadata().uid.clone(),
            ..Default::default()
        })
        .collect();
    pod
}

fn delete(name: &str, propagation_policy: &str) -> DeleteRequest {
    DeleteRequest {
        namespace: "default".into(),
        name: name.into(),
        propagation_policy: propagation_policy.into(),
        ..Default::default()
    }
}

/// Some once `name` no longer exists.
async fn gone<R: KindClient>(client: &Client, name: &str) -> Option<()> {
    let found = client.get::<R>("default", name).await;
    found.err().filter(|status| status.code() == Code::NotFound).map(drop)
}
