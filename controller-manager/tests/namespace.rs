//! Namespace deletion on a real etcd and apiserver: everything in the
//! namespace goes (a bound pod whose kubelet never finishes it too, after its
//! grace period and the margin), then the namespace, and what the deleted
//! objects held (a Service's cluster IP) is free again.

mod common;

use common::{test_settings, ControllerProcess};
use rk_client::{Client, KindClient};
use rk_controller_manager::namespace::{self, Options};
use rk_proto::v1::*;
use rk_proto::{Resource, ResourceList};
use rk_test_api::TestApi;
use rk_testkit::eventually;
use std::time::Duration;
use tonic::Code;

const PATIENCE: Duration = Duration::from_secs(20);
const NS: &str = "team";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_namespace_is_emptied_then_removed() {
    let api = TestApi::start().await;
    let client = &api.client;
    let options = Options { force_delete_margin: Duration::from_secs(1) };
    let _controller =
        ControllerProcess::start(
            &api.address,
            test_settings(),
            |ctx| async move { namespace::start_with(&ctx, options) },
        );

    client.create(Namespace { metadata: meta("", NS), ..Default::default() }).await.unwrap();
    client.create(controller("web")).await.unwrap();
    client.create(pod("unbound", "")).await.unwrap();
    // On a node without a kubelet: deletion marks it and nothing ever finishes it.
    client.create(pod("bound", "node-1")).await.unwrap();
    let marked: Pod = client
        .delete(DeleteRequest { namespace: NS.into(), name: "bound".into(), ..Default::default() })
        .await
        .unwrap();
    assert!(!marked.metadata().deletion_timestamp.is_empty());
    let web = client.create(service("web", "")).await.unwrap();
    let cluster_ip = web.spec.unwrap().cluster_ip;
    client.create(Endpoints { metadata: meta(NS, "web"), ..Default::default() }).await.unwrap();
    client.create(event("web.1")).await.unwrap();

    let terminating: Namespace = client.delete(DeleteRequest { name: NS.into(), ..Default::default() }).await.unwrap();
    assert_eq!(terminating.status.unwrap().phase, "Terminating");
    // Still accepted while terminating: the controller must keep sweeping.
    client.create(event("web.2")).await.unwrap();

    eventually("the namespace deleted", PATIENCE, || async {
        let found = client.get::<Namespace>("", NS).await;
        found.err().filter(|status| status.code() == Code::NotFound).map(drop)
    })
    .await;
    let left = [
        names::<ReplicationController>(client).await,
        names::<Pod>(client).await,
        names::<Service>(client).await,
        names::<Endpoints>(client).await,
        names::<Event>(client).await,
    ]
    .concat();
    assert!(left.is_empty(), "left behind in the deleted namespace: {left:?}");
    let mut reuse = service("reuse", &cluster_ip);
    reuse.metadata_mut().namespace = "default".into();
    client.create(reuse).await.expect("the deleted Service's cluster IP is free again");
}

fn meta(namespace: &str, name: &str) -> Option<ObjectMeta> {
    Some(ObjectMeta { name: name.into(), namespace: namespace.into(), ..Default::default() })
}

fn pod_spec(node_name: &str) -> Option<PodSpec> {
    Some(PodSpec {
        containers: vec![Container { name: "app".into(), image: "app:1".into(), ..Default::default() }],
        node_name: node_name.into(),
        termination_grace_period_seconds: Some(1),
        ..Default::default()
    })
}

fn pod(name: &str, node_name: &str) -> Pod {
    Pod { metadata: meta(NS, name), spec: pod_spec(node_name), ..Default::default() }
}

fn controller(name: &str) -> ReplicationController {
    let labels: std::collections::BTreeMap<_, _> = [("app".to_string(), name.to_string())].into();
    ReplicationController {
        metadata: meta(NS, name),
        spec: Some(ReplicationControllerSpec {
            replicas: Some(0),
            selector: labels.clone(),
            template: Some(PodTemplateSpec {
                metadata: Some(ObjectMeta { labels, ..Default::default() }),
                spec: pod_spec(""),
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A ClusterIP Service, with `cluster_ip` or an allocated one.
fn service(name: &str, cluster_ip: &str) -> Service {
    Service {
        metadata: meta(NS, name),
        spec: Some(ServiceSpec {
            ports: vec![ServicePort { port: 80, ..Default::default() }],
            cluster_ip: cluster_ip.into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn event(name: &str) -> Event {
    Event {
        metadata: meta(NS, name),
        involved_object: Some(ObjectReference {
            kind: "Pod".into(),
            namespace: NS.into(),
            name: "unbound".into(),
            ..Default::default()
        }),
        reason: "Testing".into(),
        ..Default::default()
    }
}

/// `Kind/name` of every `R` in the namespace.
async fn names<R: KindClient>(client: &Client) -> Vec<String> {
    let list = client.list::<R>(ListOptions { namespace: NS.into(), ..Default::default() }).await.unwrap();
    list.items().iter().map(|o| format!("{}/{}", R::KIND, o.metadata().name)).collect()
}
