//! The apiserver over gRPC on a real etcd: defaulting, validation, concurrency,
//! selectors, pagination, watch, allocation, binding and deletion.

mod common;

use common::object;
use futures::StreamExt;
use rk_proto::v1::*;
use rk_proto::{Resource, ResourceList};
use rk_test_api::TestApi;
use std::time::Duration;
use tonic::Code;

const POD: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web, tier: front}
spec:
  containers:
  - name: web
    image: hello
    ports: [{containerPort: 8080, name: http}]
"#;

fn pod(name: &str, labels: &[(&str, &str)]) -> Pod {
    let mut pod: Pod = object(POD);
    let meta = pod.metadata_mut();
    meta.name = name.to_string();
    meta.labels = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    pod
}

#[tokio::test]
async fn create_applies_kubernetes_defaults_and_get_returns_the_object() {
    let api = TestApi::start().await;
    let created = api.client.create(pod("web", &[("app", "web")])).await.unwrap();
    let meta = created.metadata();
    assert_eq!(meta.namespace, "default");
    assert!(!meta.uid.is_empty() && !meta.creation_timestamp.is_empty());
    assert_eq!(meta.generation, 1);
    assert!(meta.resource_version.parse::<i64>().unwrap() > 0);
    let spec = created.spec.as_ref().unwrap();
    assert_eq!(spec.restart_policy, "Always");
    assert_eq!(spec.termination_grace_period_seconds, Some(30));
    assert_eq!(spec.containers[0].image_pull_policy, "Always", "no tag means :latest");
    assert_eq!(spec.containers[0].ports[0].protocol, "TCP");
    assert_eq!(created.status.as_ref().unwrap().phase, "Pending");
    let fetched: Pod = api.client.get("default", "web").await.unwrap();
    assert_eq!(fetched, created);

    let again = api.client.create(pod("web", &[])).await.unwrap_err();
    assert_eq!(again.code(), Code::AlreadyExists);
    assert_eq!(again.message(), "pods \"web\" already exists");
    let missing = api.client.get::<Pod>("default", "nope").await.unwrap_err();
    assert_eq!((missing.code(), missing.message()), (Code::NotFound, "pods \"nope\" not found"));
}

#[tokio::test]
async fn invalid_objects_are_refused_with_every_problem_named() {
    let api = TestApi::start().await;
    let mut bad = pod("Bad_Name", &[]);
    let spec = bad.spec.as_mut().unwrap();
    spec.containers[0].image.clear();
    spec.containers[0].ports[0].container_port = 70000;
    spec.restart_policy = "Sometimes".into();
    let error = api.client.create(bad).await.unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument);
    for field in
        ["metadata.name", "spec.containers[0].image", "spec.containers[0].ports[0].containerPort", "spec.restartPolicy"]
    {
        assert!(error.message().contains(field), "{field} missing from: {}", error.message());
    }
    let listed = api.client.list::<Pod>(ListOptions::default()).await.unwrap();
    assert!(listed.items().is_empty(), "nothing was stored");

    let mut elsewhere = pod("web", &[]);
    elsewhere.metadata_mut().namespace = "missing".into();
    let error = api.client.create(elsewhere).await.unwrap_err();
    assert_eq!((error.code(), error.message()), (Code::NotFound, "namespaces \"missing\" not found"));
}

#[tokio::test]
async fn a_stale_update_is_a_conflict_and_changes_nothing() {
    let api = TestApi::start().await;
    let created = api.client.create(pod("web", &[("app", "web")])).await.unwrap();
    let mut first = created.clone();
    first.metadata_mut().labels.insert("v".into(), "1".into());
    let updated = api.client.update(first).await.unwrap();
    assert_ne!(updated.metadata().resource_version, created.metadata().resource_version);

    let mut stale = created.clone();
    stale.metadata_mut().labels.insert("v".into(), "2".into());
    let error = api.client.update(stale).await.unwrap_err();
    assert_eq!(error.code(), Code::Aborted);
    assert!(error.message().contains("the object has been modified"), "{}", error.message());
    let current: Pod = api.client.get("default", "web").await.unwrap();
    assert_eq!(current.metadata().labels.get("v").map(String::as_str), Some("1"));
    assert_eq!(current, updated);
}

#[tokio::test]
async fn fifty_concurrent_read_modify_writes_lose_nothing() {
    let api = TestApi::start().await;
    let mut rc: ReplicationController = object(
        "{apiVersion: v1, kind: ReplicationController, metadata: {name: web}, spec: {replicas: 0, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c, image: hello}]}}}}",
    );
    rc = api.client.create(rc).await.unwrap();
    assert_eq!(
        rc.spec.as_ref().unwrap().selector.get("app").map(String::as_str),
        Some("web"),
        "selector defaulted from the template"
    );
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let client = api.client.clone();
            tokio::spawn(async move {
                let mut conflicts = 0;
                loop {
                    let mut rc: ReplicationController = client.get("default", "web").await.unwrap();
                    let spec = rc.spec.as_mut().unwrap();
                    spec.replicas = Some(spec.replicas.unwrap() + 1);
                    match client.update(rc).await {
                        Ok(_) => return conflicts,
                        Err(status) => {
                            assert_eq!(status.code(), Code::Aborted, "every failure is a conflict: {status:?}");
                            conflicts += 1;
                        }
                    }
                }
            })
        })
        .collect();
    let mut conflicts = 0;
    for task in tasks {
        conflicts += task.await.unwrap();
    }
    let rc: ReplicationController = api.client.get("default", "web").await.unwrap();
    assert_eq!(rc.spec.unwrap().replicas, Some(50), "all 50 increments landed ({conflicts} conflicts retried)");
    assert_eq!(rc.metadata.unwrap().generation, 51, "each spec change bumps the generation");
}

#[tokio::test]
async fn an_update_without_resource_version_is_never_a_conflict_while_status_changes() {
    let api = TestApi::start().await;
    let rc: ReplicationController = object(
        "{apiVersion: v1, kind: ReplicationController, metadata: {name: web}, spec: {replicas: 0, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c, image: hello}]}}}}",
    );
    api.client.create(rc.clone()).await.unwrap();
    // A controller writing the status as fast as it can, as `rkctl apply` (no resourceVersion) runs.
    let writer = {
        let client = api.client.clone();
        tokio::spawn(async move {
            for replicas in 1..=200 {
                let mut current: ReplicationController = client.get("default", "web").await.unwrap();
                current.status.get_or_insert_with(Default::default).replicas = replicas;
                let _ = client.update_status(current).await;
            }
        })
    };
    for replicas in 1..=30 {
        let mut unconditional = rc.clone();
        unconditional.spec.as_mut().unwrap().replicas = Some(replicas);
        let updated =
            api.client.update(unconditional).await.expect("an unconditional update is retried, not a Conflict");
        assert_eq!(updated.spec.unwrap().replicas, Some(replicas));
    }
    writer.await.unwrap();
    let rc: ReplicationController = api.client.get("default", "web").await.unwrap();
    assert_eq!(rc.status.unwrap().replicas, 200, "the status writes were kept by the spec updates");
}

#[tokio::test]
async fn lists_filter_by_labels_and_fields_and_paginate() {
    let api = TestApi::start().await;
    for i in 0..25 {
        let tier = if i % 2 == 0 { "front" } else { "back" };
        api.client.create(pod(&format!("p{i:02}"), &[("app", "web"), ("tier", tier)])).await.unwrap();
    }
    let names = |list: PodList| list.into_items().into_iter().map(|p| p.metadata.unwrap().name).collect::<Vec<_>>();
    let select = |label: &str, field: &str| ListOptions {
        label_selector: label.into(),
        field_selector: field.into(),
        ..Default::default()
    };
    assert_eq!(names(api.client.list::<Pod>(select("tier=front", "")).await.unwrap()).len(), 13);
    assert_eq!(names(api.client.list::<Pod>(select("tier in (back),app", "")).await.unwrap()).len(), 12);
    assert_eq!(names(api.client.list::<Pod>(select("!tier", "")).await.unwrap()).len(), 0);
    assert_eq!(names(api.client.list::<Pod>(select("", "metadata.name=p03")).await.unwrap()), vec!["p03"]);
    assert_eq!(names(api.client.list::<Pod>(select("", "spec.nodeName=")).await.unwrap()).len(), 25);
    let bad = api.client.list::<Pod>(select("", "spec.image=x")).await.unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().contains("supported fields"), "{}", bad.message());

    // Pages of 10 matching objects, all read at one revision, in name order.
    let mut all = Vec::new();
    let mut options = ListOptions { limit: 10, label_selector: "tier=front".into(), ..Default::default() };
    let mut pages = 0;
    loop {
        let page = api.client.list::<Pod>(options.clone()).await.unwrap();
        let token = page.list_meta().r#continue;
        pages += 1;
        all.extend(names(page));
        // A write between pages must not show up in this list.
        api.client.create(pod(&format!("late{pages}"), &[("tier", "front")])).await.unwrap();
        if token.is_empty() {
            break;
        }
        options.r#continue = token;
    }
    assert_eq!(pages, 2);
    let expected: Vec<String> = (0..25).step_by(2).map(|i| format!("p{i:02}")).collect();
    assert_eq!(all, expected);
}

#[tokio::test]
async fn watch_delivers_every_change_in_order_with_selector_transitions() {
    let api = TestApi::start().await;
    let start_rv = api.client.list::<Pod>(ListOptions::default()).await.unwrap().list_meta().resource_version;
    let mut created = api.client.create(pod("a", &[("app", "web")])).await.unwrap();
    api.client.create(pod("b", &[("app", "db")])).await.unwrap();
    created.metadata_mut().labels.insert("app".into(), "other".into());
    api.client.update(created).await.unwrap();
    api.client
        .delete::<Pod>(DeleteRequest { namespace: "default".into(), name: "b".into(), ..Default::default() })
        .await
        .unwrap();

    let options = |selector: &str| ListOptions {
        resource_version: start_rv.clone(),
        label_selector: selector.into(),
        ..Default::default()
    };
    let collect = |mut stream: tonic::Streaming<PodWatchEvent>, n: usize| async move {
        let mut seen = Vec::new();
        while seen.len() < n {
            let event = tokio::time::timeout(Duration::from_secs(10), stream.next())
                .await
                .expect("event in time")
                .unwrap()
                .unwrap();
            seen.push((event.r#type, event.object.unwrap().metadata.unwrap().name));
        }
        seen
    };
    let all = collect(api.client.watch::<Pod>(options("")).await.unwrap(), 4).await;
    let pairs = |v: &[(&str, &str)]| v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>();
    assert_eq!(all, pairs(&[("ADDED", "a"), ("ADDED", "b"), ("MODIFIED", "a"), ("DELETED", "b")]));
    let web = collect(api.client.watch::<Pod>(options("app=web")).await.unwrap(), 2).await;
    assert_eq!(web, pairs(&[("ADDED", "a"), ("DELETED", "a")]), "leaving the selection is a DELETED");
}

#[tokio::test]
async fn service_ips_and_node_ports_are_allocated_once_and_released_on_delete() {
    let api = TestApi::start().await;
    let service = |name: &str, ip: &str, node_port: i32| -> Service {
        let mut s: Service = object(&format!(
            "{{apiVersion: v1, kind: Service, metadata: {{name: {name}}}, spec: {{type: NodePort, selector: {{app: web}}, ports: [{{port: 80, targetPort: http, nodePort: {node_port}}}]}}}}"
        ));
        s.spec.as_mut().unwrap().cluster_ip = ip.to_string();
        s
    };
    let a = api.client.create(service("a", "10.96.0.10", 30001)).await.unwrap();
    let spec = a.spec.unwrap();
    assert_eq!(spec.cluster_ip, "10.96.0.10");
    assert_eq!(spec.ports[0].node_port, 30001);
    assert_eq!(spec.session_affinity, "None");
    let taken = api.client.create(service("b", "10.96.0.10", 0)).await.unwrap_err();
    assert_eq!(taken.code(), Code::InvalidArgument);
    assert!(
        taken.message().contains("spec.clusterIP") && taken.message().contains("already allocated"),
        "{}",
        taken.message()
    );
    let port_taken = api.client.create(service("b", "", 30001)).await.unwrap_err();
    assert!(port_taken.message().contains("spec.ports[0].nodePort"), "{}", port_taken.message());
    let outside = api.client.create(service("b", "10.97.0.1", 0)).await.unwrap_err();
    assert!(outside.message().contains("not in the valid range"), "{}", outside.message());
    let b = api.client.create(service("b", "", 0)).await.unwrap();
    let b_spec = b.spec.unwrap();
    assert!(b_spec.cluster_ip.starts_with("10.96."), "{}", b_spec.cluster_ip);
    assert!((30000..=32767).contains(&b_spec.ports[0].node_port));

    api.client
        .delete::<Service>(DeleteRequest { namespace: "default".into(), name: "a".into(), ..Default::default() })
        .await
        .unwrap();
    let reused = api.client.create(service("c", "10.96.0.10", 30001)).await.unwrap();
    assert_eq!(reused.spec.unwrap().cluster_ip, "10.96.0.10", "released on delete");

    let mut changed: Service = api.client.get("default", "c").await.unwrap();
    changed.spec.as_mut().unwrap().cluster_ip = "10.96.0.11".into();
    let immutable = api.client.update(changed).await.unwrap_err();
    assert!(immutable.message().contains("spec.clusterIP"), "{}", immutable.message());
}

#[tokio::test]
async fn concurrent_service_creates_never_share_an_ip() {
    let api = TestApi::start().await;
    let tasks: Vec<_> = (0..30)
        .map(|i| {
            let client = api.client.clone();
            tokio::spawn(async move {
                let s: Service = object(&format!(
                    "{{apiVersion: v1, kind: Service, metadata: {{name: s{i}}}, spec: {{ports: [{{port: 80}}]}}}}"
                ));
                client.create(s).await.unwrap().spec.unwrap().cluster_ip
            })
        })
        .collect();
    let mut ips = std::collections::HashSet::new();
    for task in tasks {
        assert!(ips.insert(task.await.unwrap()), "an IP was handed out twice");
    }
}

#[tokio::test]
async fn binding_succeeds_once_and_bound_pods_are_deleted_gracefully() {
    let api = TestApi::start().await;
    api.client.create(pod("web", &[])).await.unwrap();
    let bind = |node: &str| Binding {
        metadata: Some(ObjectMeta { name: "web".into(), namespace: "default".into(), ..Default::default() }),
        target: Some(ObjectReference { kind: "Node".into(), name: node.into(), ..Default::default() }),
        ..Default::default()
    };
    let results = futures::future::join_all((0..10).map(|i| api.client.bind(bind(&format!("node{i}"))))).await;
    let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "exactly one binding wins");
    for loser in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(loser.code(), Code::FailedPrecondition);
        assert!(loser.message().contains("already assigned"), "{}", loser.message());
    }
    let deleting: Pod = api
        .client
        .delete(DeleteRequest { namespace: "default".into(), name: "web".into(), ..Default::default() })
        .await
        .unwrap();
    assert!(!deleting.metadata().deletion_timestamp.is_empty());
    assert_eq!(deleting.metadata().deletion_grace_period_seconds, Some(30));
    api.client.get::<Pod>("default", "web").await.expect("still there until the kubelet finishes");
    api.client
        .delete::<Pod>(DeleteRequest {
            namespace: "default".into(),
            name: "web".into(),
            grace_period_seconds: Some(0),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(api.client.get::<Pod>("default", "web").await.unwrap_err().code(), Code::NotFound);

    api.client.create(pod("unbound", &[])).await.unwrap();
    api.client
        .delete::<Pod>(DeleteRequest { namespace: "default".into(), name: "unbound".into(), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(
        api.client.get::<Pod>("default", "unbound").await.unwrap_err().code(),
        Code::NotFound,
        "unbound pods go at once"
    );
}

#[tokio::test]
async fn nodes_keep_their_status_and_other_kinds_do_not() {
    let api = TestApi::start().await;
    let node: Node = object(
        "{apiVersion: v1, kind: Node, metadata: {name: n1, labels: {disktype: ssd}}, status: {capacity: {cpu: 2, memory: 4Gi, pods: 110}, conditions: [{type: Ready, status: 'True'}]}}",
    );
    let created = api.client.create(node).await.unwrap();
    let status = created.status.unwrap();
    assert_eq!(status.capacity.get("cpu").map(String::as_str), Some("2"));
    assert_eq!(status.conditions[0].status, "True");
    assert!(created.metadata.unwrap().namespace.is_empty(), "nodes are cluster-scoped");

    let mut with_status = pod("p", &[]);
    with_status.status = Some(PodStatus { phase: "Running".into(), ..Default::default() });
    assert_eq!(api.client.create(with_status).await.unwrap().status.unwrap().phase, "Pending");
}

#[tokio::test]
async fn huge_objects_are_refused_with_the_limit() {
    let api = TestApi::start().await;
    // 1.6 MiB of environment: valid field by field, too big as a whole.
    let mut big = pod("big", &[]);
    big.spec.as_mut().unwrap().containers[0].env = (0..16)
        .map(|i| EnvVar { name: format!("V{i}"), value: "x".repeat(100 * 1024), ..Default::default() })
        .collect();
    let error = api.client.create(big).await.unwrap_err();
    assert_eq!(error.code(), Code::ResourceExhausted, "{error:?}");
    assert!(error.message().contains("objects may be at most 1572864 bytes"), "{}", error.message());
    // Past the gRPC message limit the request is refused before it is decoded.
    let mut huge = pod("huge", &[]);
    huge.metadata_mut().annotations.insert("blob".into(), "x".repeat(5 << 20));
    let error = api.client.create(huge).await.unwrap_err();
    assert_eq!(error.code(), Code::OutOfRange, "tonic's limit: {error:?}");
    assert!(error.message().contains("too large"), "{}", error.message());
    assert!(api.client.list::<Pod>(ListOptions::default()).await.unwrap().items().is_empty());
}

#[tokio::test]
async fn generate_name_gets_a_random_suffix() {
    let api = TestApi::start().await;
    let mut p = pod("", &[]);
    p.metadata_mut().generate_name = "web-".into();
    let a = api.client.create(p.clone()).await.unwrap();
    let b = api.client.create(p).await.unwrap();
    let (a, b) = (a.metadata.unwrap().name, b.metadata.unwrap().name);
    assert!(a.starts_with("web-") && a.len() == 9, "{a}");
    assert_ne!(a, b);
}

#[tokio::test]
async fn status_goes_through_its_own_call_and_updates_keep_it() {
    let api = TestApi::start().await;
    let created = api.client.create(pod("web", &[("app", "web")])).await.unwrap();
    let mut running = created.clone();
    running.status = Some(PodStatus { phase: "Running".into(), pod_ip: "10.244.1.5".into(), ..Default::default() });
    running.metadata_mut().labels.insert("sneaky".into(), "yes".into());
    let after_status = api.client.update_status(running).await.unwrap();
    assert_eq!(after_status.status.as_ref().unwrap().pod_ip, "10.244.1.5");
    assert!(!after_status.metadata().labels.contains_key("sneaky"), "a status update changes only the status");

    let mut relabelled = after_status.clone();
    relabelled.status = None;
    relabelled.metadata_mut().labels.insert("v".into(), "2".into());
    let updated = api.client.update(relabelled).await.unwrap();
    assert_eq!(updated.status.unwrap().phase, "Running", "an ordinary update keeps the status");
    assert_eq!(updated.metadata.unwrap().generation, 1, "labels are not spec");
}

#[tokio::test]
async fn health_and_metrics_are_served_over_http() {
    let api = TestApi::start().await;
    api.client.create(pod("web", &[])).await.unwrap();
    let get = |path: &'static str| {
        let address = api.health_address.clone();
        async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
            stream.write_all(format!("GET {path} HTTP/1.0\r\n\r\n").as_bytes()).await.unwrap();
            let mut response = String::new();
            stream.read_to_string(&mut response).await.unwrap();
            response
        }
    };
    let health = get("/healthz").await;
    assert!(health.starts_with("HTTP/1.0 200") && health.ends_with("ok\n"), "{health}");
    let metrics = get("/metrics").await;
    assert!(
        metrics.contains("rk_apiserver_requests_total{resource=\"pods\",verb=\"create\",code=\"Ok\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("rk_apiserver_watchers 0"), "{metrics}");
}

#[tokio::test]
async fn two_apiservers_on_one_etcd_never_share_an_ip_or_node_port() {
    let first = TestApi::start().await;
    let second = first.another(rk_apiserver::ServerConfig::default()).await;
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let client = if i % 2 == 0 { first.client.clone() } else { second.clone() };
            tokio::spawn(async move {
                let s: Service = object(&format!(
                    "{{apiVersion: v1, kind: Service, metadata: {{name: s{i}}}, spec: {{type: NodePort, ports: [{{port: 80}}]}}}}"
                ));
                let spec = client.create(s).await.unwrap().spec.unwrap();
                (spec.cluster_ip, spec.ports[0].node_port)
            })
        })
        .collect();
    let (mut ips, mut ports) = (std::collections::HashSet::new(), std::collections::HashSet::new());
    for task in tasks {
        let (ip, port) = task.await.unwrap();
        assert!(ips.insert(ip), "an IP was handed out twice");
        assert!(ports.insert(port), "a node port was handed out twice");
    }
}

#[tokio::test]
async fn finalizers_hold_deletion_until_removed_and_namespaces_terminate() {
    let api = TestApi::start().await;
    let ns: Namespace = object("{apiVersion: v1, kind: Namespace, metadata: {name: team}}");
    let created = api.client.create(ns).await.unwrap();
    assert_eq!(created.metadata().finalizers, vec!["kubernetes"]);
    let delete = |name: &str, policy: &str| DeleteRequest {
        namespace: "team".into(),
        name: name.into(),
        propagation_policy: policy.into(),
        ..Default::default()
    };
    let terminating: Namespace = api.client.delete(delete("team", "")).await.unwrap();
    assert!(!terminating.metadata().deletion_timestamp.is_empty());
    assert_eq!(terminating.status.as_ref().unwrap().phase, "Terminating");
    let again: Namespace = api.client.delete(delete("team", "")).await.unwrap();
    assert_eq!(
        again.metadata().resource_version,
        terminating.metadata().resource_version,
        "a second delete changes nothing"
    );

    // --cascade=orphan: the owner waits for the garbage collector's "orphan" finalizer to go.
    let rc: ReplicationController = object(
        "{apiVersion: v1, kind: ReplicationController, metadata: {name: web, namespace: team}, spec: {replicas: 1, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c, image: x:1}]}}}}",
    );
    api.client.create(rc).await.unwrap();
    let orphaning: ReplicationController = api.client.delete(delete("web", "Orphan")).await.unwrap();
    assert_eq!(orphaning.metadata().finalizers, vec!["orphan"]);
    let mut released = orphaning.clone();
    released.metadata_mut().finalizers.clear();
    api.client.update(released).await.unwrap();
    assert_eq!(api.client.get::<ReplicationController>("team", "web").await.unwrap_err().code(), Code::NotFound);

    let mut emptied = terminating.clone();
    emptied.metadata_mut().finalizers.clear();
    api.client.update(emptied).await.unwrap();
    assert_eq!(api.client.get::<Namespace>("", "team").await.unwrap_err().code(), Code::NotFound);
}
