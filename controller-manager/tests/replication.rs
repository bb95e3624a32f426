//! The replication controller against a real apiserver on a real etcd.

mod common;

use common::{delaying_proxy, test_settings, ControllerProcess};
use rk_client::Client;
use rk_controller_manager::replication::{self, is_terminal, Options};
use rk_controller_manager::Settings;
use rk_proto::v1::*;
use rk_proto::{Resource, ResourceList};
use rk_test_api::TestApi;
use rk_testkit::eventually;
use std::collections::BTreeSet;
use std::time::Duration;
use tonic::Code;

const NAMESPACE: &str = "default";
const PATIENCE: Duration = Duration::from_secs(20);

fn start_controller(address: &str) -> ControllerProcess {
    ControllerProcess::start(address, test_settings(), |ctx| async move { replication::start(&ctx) })
}

fn labels(app: &str) -> std::collections::BTreeMap<String, String> {
    [("app".to_string(), app.to_string())].into()
}

/// A controller for `replicas` pods labelled `app=<name>`.
fn controller(name: &str, replicas: i32) -> ReplicationController {
    let template = PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: labels(name),
            annotations: [("owner".to_string(), "team-a".to_string())].into(),
            ..Default::default()
        }),
        spec: Some(PodSpec {
            containers: vec![Container { name: "app".into(), image: "app:1".into(), ..Default::default() }],
            ..Default::default()
        }),
    };
    ReplicationController {
        metadata: Some(ObjectMeta { name: name.into(), namespace: NAMESPACE.into(), ..Default::default() }),
        spec: Some(ReplicationControllerSpec {
            replicas: Some(replicas),
            selector: labels(name),
            template: Some(template),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn bare_pod(name: &str, app: &str) -> Pod {
    Pod {
        metadata: Some(ObjectMeta {
            name: name.into(),
            namespace: NAMESPACE.into(),
            labels: labels(app),
            ..Default::default()
        }),
        spec: Some(PodSpec {
            containers: vec![Container { name: "app".into(), image: "app:1".into(), ..Default::default() }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Every pod labelled `app=<app>`, including those being deleted.
async fn pods_labelled(client: &Client, app: &str) -> Vec<Pod> {
    let options =
        ListOptions { namespace: NAMESPACE.into(), label_selector: format!("app={app}"), ..Default::default() };
    client.list::<Pod>(options).await.unwrap().into_items()
}

fn is_active(pod: &Pod) -> bool {
    pod.metadata().deletion_timestamp.is_empty() && !is_terminal(pod)
}

fn names(pods: &[Pod]) -> BTreeSet<String> {
    pods.iter().map(|pod| pod.metadata().name.clone()).collect()
}

async fn get_rc(client: &Client, name: &str) -> ReplicationController {
    client.get(NAMESPACE, name).await.unwrap()
}

/// Waits until the controller has acted on its current spec and sees exactly
/// `replicas` active pods labelled `app=<name>`, and that is what exists.
/// Returns those pods.
async fn settled(client: &Client, name: &str, replicas: i32) -> Vec<Pod> {
    eventually(&format!("{name} to settle at {replicas} pods"), PATIENCE, || async {
        let rc = get_rc(client, name).await;
        let status = rc.status.unwrap_or_default();
        let active: Vec<Pod> = pods_labelled(client, name).await.into_iter().filter(is_active).collect();
        let observed = status.observed_generation == rc.metadata().generation && status.replicas == replicas;
        (observed && active.len() == replicas as usize).then_some(active)
    })
    .await
}

/// Changes spec.replicas, retrying when the controller's status write got in between.
async fn scale(client: &Client, name: &str, replicas: i32) {
    loop {
        let mut rc = get_rc(client, name).await;
        rc.spec.as_mut().unwrap().replicas = Some(replicas);
        match client.update(rc).await {
            Err(conflict) if conflict.code() == Code::Aborted => continue,
            result => return drop(result.unwrap()),
        }
    }
}

/// What a scheduler does: puts the pod on `node`.
fn binding(pod: &str, node: &str) -> Binding {
    Binding {
        metadata: Some(ObjectMeta { name: pod.into(), namespace: NAMESPACE.into(), ..Default::default() }),
        target: Some(ObjectReference { kind: "Node".into(), name: node.into(), ..Default::default() }),
        ..Default::default()
    }
}

/// What a kubelet does: reports the pod's phase and readiness.
async fn set_pod_status(client: &Client, pod: &str, phase: &str, ready: bool) {
    let mut pod: Pod = client.get(NAMESPACE, pod).await.unwrap();
    let status = pod.status.get_or_insert_with(Default::default);
    status.phase = phase.into();
    status.conditions = vec![PodCondition {
        r#type: "Ready".into(),
        status: if ready { "True" } else { "False" }.into(),
        last_transition_time: rk_proto::time::now(),
        ..Default::default()
    }];
    client.update_status(pod).await.unwrap();
}

async fn events(client: &Client, rc: &str, reason: &str) -> BTreeSet<String> {
    let options = ListOptions { namespace: NAMESPACE.into(), ..Default::default() };
    let events = client.list::<Event>(options).await.unwrap().into_items();
    events
        .into_iter()
        .filter(|event| {
            let involved = event.involved_object.clone().unwrap_or_default();
            involved.kind == "ReplicationController" && involved.name == rc && event.reason == reason
        })
        .map(|event| event.message)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scales_one_three_zero_two_with_owned_generated_pods_and_events() {
    let api = TestApi::start().await;
    let _controller = start_controller(&api.address);
    let client = &api.client;
    let rc = client.create(controller("web", 1)).await.unwrap();

    let first = settled(client, "web", 1).await;
    let expected_owner = OwnerReference {
        api_version: "v1".into(),
        kind: "ReplicationController".into(),
        name: "web".into(),
        uid: rc.metadata().uid.clone(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    };
    let mut created = names(&first);
    for step in [3, 0, 2] {
        scale(client, "web", step).await;
        let pods = settled(client, "web", step).await;
        for pod in &pods {
            let meta = pod.metadata();
            assert!(meta.name.starts_with("web-") && meta.name.len() == "web-".len() + 5, "{}", meta.name);
            assert_eq!(meta.generate_name, "web-");
            assert_eq!(meta.owner_references, std::slice::from_ref(&expected_owner));
            assert_eq!(meta.labels, labels("web"));
            assert_eq!(meta.annotations["owner"], "team-a");
        }
        created.extend(names(&pods));
    }
    assert_eq!(created.len(), 1 + 2 + 2, "1, then 2 more, then 2 after scaling to zero: {created:?}");

    let created_messages: BTreeSet<String> = created.iter().map(|name| format!("Created pod: {name}")).collect();
    eventually("a SuccessfulCreate event per pod", PATIENCE, || async {
        (events(client, "web", "SuccessfulCreate").await == created_messages).then_some(())
    })
    .await;
    eventually("SuccessfulDelete events for the three pods scaled away", PATIENCE, || async {
        (events(client, "web", "SuccessfulDelete").await.len() == 3).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_pods_are_replaced() {
    let api = TestApi::start().await;
    let _controller = start_controller(&api.address);
    let client = &api.client;
    client.create(controller("web", 3)).await.unwrap();
    let before = settled(client, "web", 3).await;

    // An unbound pod goes at once.
    let unbound = before[0].metadata().name.clone();
    client
        .delete::<Pod>(DeleteRequest { namespace: NAMESPACE.into(), name: unbound.clone(), ..Default::default() })
        .await
        .unwrap();
    // A bound pod is only marked: the controller replaces it while it terminates.
    let bound = before[1].metadata().name.clone();
    client.bind(binding(&bound, "node-1")).await.unwrap();
    client
        .delete::<Pod>(DeleteRequest { namespace: NAMESPACE.into(), name: bound.clone(), ..Default::default() })
        .await
        .unwrap();

    let after = eventually("two replacements", PATIENCE, || async {
        let active: Vec<Pod> = pods_labelled(client, "web").await.into_iter().filter(is_active).collect();
        let names = names(&active);
        (names.len() == 3 && !names.contains(&unbound) && !names.contains(&bound)).then_some(names)
    })
    .await;
    assert_eq!(after.intersection(&names(&before)).count(), 1, "the untouched pod stays");
    let all = pods_labelled(client, "web").await;
    assert_eq!(all.len(), 4, "three active pods and the terminating one: {:?}", names(&all));

    // The kubelet's part: finish the deletion. The count stays at three.
    let finish = DeleteRequest {
        namespace: NAMESPACE.into(),
        name: bound.clone(),
        grace_period_seconds: Some(0),
        ..Default::default()
    };
    client.delete::<Pod>(finish).await.unwrap();
    let settled_pods = settled(client, "web", 3).await;
    assert_eq!(names(&settled_pods), after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matching_orphans_are_adopted_and_relabelled_pods_released() {
    let api = TestApi::start().await;
    let client = &api.client;
    client.create(bare_pod("stray", "web")).await.unwrap();
    client.create(bare_pod("unrelated", "db")).await.unwrap();
    let _controller = start_controller(&api.address);
    let rc = client.create(controller("web", 2)).await.unwrap();

    let pods = settled(client, "web", 2).await;
    let stray = pods.iter().find(|pod| pod.metadata().name == "stray").expect("the orphan is counted");
    assert_eq!(stray.metadata().owner_references.len(), 1);
    assert_eq!(stray.metadata().owner_references[0].uid, rc.metadata().uid);
    let unrelated: Pod = client.get(NAMESPACE, "unrelated").await.unwrap();
    assert!(unrelated.metadata().owner_references.is_empty());

    // Relabelled away: released, and replaced.
    let mut relabelled: Pod = client.get(NAMESPACE, "stray").await.unwrap();
    relabelled.metadata_mut().labels = labels("elsewhere");
    client.update(relabelled).await.unwrap();
    eventually("the relabelled pod released", PATIENCE, || async {
        let pod: Pod = client.get(NAMESPACE, "stray").await.unwrap();
        pod.metadata().owner_references.is_empty().then_some(())
    })
    .await;
    let replaced = settled(client, "web", 2).await;
    assert!(!names(&replaced).contains("stray"));

    // Relabelled back: adopted again, which makes one too many. Running and
    // ready on a node, it is not the one scaled away.
    client.bind(binding("stray", "node-1")).await.unwrap();
    set_pod_status(client, "stray", "Running", true).await;
    let mut back: Pod = client.get(NAMESPACE, "stray").await.unwrap();
    back.metadata_mut().labels = labels("web");
    client.update(back).await.unwrap();
    eventually("the pod adopted again and one pod deleted", PATIENCE, || async {
        let pod: Pod = client.get(NAMESPACE, "stray").await.unwrap();
        let adopted = pod.metadata().owner_references.iter().any(|owner| owner.uid == rc.metadata().uid);
        let active = pods_labelled(client, "web").await.into_iter().filter(is_active).count();
        (adopted && active == 2).then_some(())
    })
    .await;
    settled(client, "web", 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_follows_pod_readiness() {
    let api = TestApi::start().await;
    let _controller = start_controller(&api.address);
    let client = &api.client;
    client.create(controller("web", 3)).await.unwrap();
    let pods = settled(client, "web", 3).await;
    let status_is = |ready: i32| async move {
        let status = get_rc(client, "web").await.status.unwrap_or_default();
        let expected = ReplicationControllerStatus {
            replicas: 3,
            fully_labeled_replicas: 3,
            ready_replicas: ready,
            available_replicas: ready,
            observed_generation: 1,
        };
        (status == expected).then_some(())
    };

    set_pod_status(client, &pods[0].metadata().name, "Running", true).await;
    set_pod_status(client, &pods[1].metadata().name, "Running", true).await;
    set_pod_status(client, &pods[2].metadata().name, "Running", false).await;
    eventually("two ready replicas", PATIENCE, || status_is(2)).await;
    set_pod_status(client, &pods[0].metadata().name, "Running", false).await;
    eventually("one ready replica", PATIENCE, || status_is(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaling_down_removes_unscheduled_then_pending_then_not_ready_pods() {
    let api = TestApi::start().await;
    let _controller = start_controller(&api.address);
    let client = &api.client;
    client.create(controller("web", 4)).await.unwrap();
    let pods = settled(client, "web", 4).await;
    let name = |i: usize| pods[i].metadata().name.clone();
    for pod in &pods[1..] {
        client.bind(binding(&pod.metadata().name, "node-1")).await.unwrap();
    }
    // pods[0] unscheduled; pods[1] bound and Pending; pods[2] Running, not ready; pods[3] Running and ready.
    set_pod_status(client, &pods[2].metadata().name, "Running", false).await;
    set_pod_status(client, &pods[3].metadata().name, "Running", true).await;
    eventually("the controller to see the ready pod", PATIENCE, || async {
        (get_rc(client, "web").await.status.unwrap_or_default().ready_replicas == 1).then_some(())
    })
    .await;

    let mut remaining: BTreeSet<String> = (0..4).map(name).collect();
    for (replicas, victim) in [(3, 0), (2, 1), (1, 2)] {
        scale(client, "web", replicas).await;
        let left = names(&settled(client, "web", replicas).await);
        remaining.remove(&name(victim));
        assert_eq!(left, remaining, "scaling to {replicas} should delete {}", name(victim));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_controller_being_deleted_neither_replaces_nor_adopts() {
    let api = TestApi::start().await;
    let _controller = start_controller(&api.address);
    let client = &api.client;
    client.create(controller("web", 2)).await.unwrap();
    let pods = settled(client, "web", 2).await;

    // Orphan deletion keeps the controller (with deletionTimestamp and the
    // orphan finalizer) until a garbage collector, not running here, finishes it.
    let delete = DeleteRequest {
        namespace: NAMESPACE.into(),
        name: "web".into(),
        propagation_policy: "Orphan".into(),
        ..Default::default()
    };
    client.delete::<ReplicationController>(delete).await.unwrap();
    assert!(!get_rc(client, "web").await.metadata().deletion_timestamp.is_empty());
    client.create(bare_pod("stray", "web")).await.unwrap();
    let victim = pods[0].metadata().name.clone();
    client
        .delete::<Pod>(DeleteRequest { namespace: NAMESPACE.into(), name: victim, ..Default::default() })
        .await
        .unwrap();

    // The status shows the controller has seen the deletion, and with it the stray pod created before.
    eventually("the controller to count one pod", PATIENCE, || async {
        (get_rc(client, "web").await.status.unwrap_or_default().replicas == 1).then_some(())
    })
    .await;
    let now = pods_labelled(client, "web").await;
    assert_eq!(names(&now), BTreeSet::from([pods[1].metadata().name.clone(), "stray".to_string()]));
    let stray: Pod = client.get(NAMESPACE, "stray").await.unwrap();
    assert!(stray.metadata().owner_references.is_empty(), "not adopted by a controller being deleted");
}

/// Polls the number of pods labelled `app=<app>` until `done` holds for it,
/// failing if it ever exceeds `limit`.
async fn count_until(client: &Client, app: &str, limit: usize, what: &str, done: impl Fn(usize) -> bool) -> usize {
    eventually(what, Duration::from_secs(60), || async {
        let count = pods_labelled(client, app).await.len();
        assert!(count <= limit, "{count} pods exist, more than {limit}");
        done(count).then_some(count)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_controller_killed_while_scaling_to_500_leaves_exactly_500_pods_after_restart() {
    let api = TestApi::start().await;
    let client = &api.client;
    let first = start_controller(&api.address);
    client.create(controller("big", 500)).await.unwrap();
    let before_kill = count_until(client, "big", 500, "creation to be under way", |count| count >= 100).await;
    first.kill();

    // Creates the dead controller had sent may still land. A restarted
    // controller-manager only starts once its predecessor's lease expired,
    // long after; here, wait until the count holds still for a few polls.
    let mut last = before_kill;
    let mut unchanged = 0;
    while unchanged < 3 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let count = pods_labelled(client, "big").await.len();
        (unchanged, last) = if count == last { (unchanged + 1, last) } else { (0, count) };
    }
    assert!(last < 500, "the kill came too late to test anything: {last} pods");

    let _second = start_controller(&api.address);
    count_until(client, "big", 500, "500 pods", |count| count == 500).await;
    eventually("the controller to report 500 replicas", PATIENCE, || async {
        let status = get_rc(client, "big").await.status.unwrap_or_default();
        assert!(pods_labelled(client, "big").await.len() <= 500);
        (status.replicas == 500).then_some(())
    })
    .await;
    assert_eq!(pods_labelled(client, "big").await.len(), 500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_watch_never_causes_extra_pods() {
    let api = TestApi::start().await;
    let client = &api.client;
    // The controller's informers see everything 2 s late, while its writes are
    // immediate and its cached controller is re-announced every 100 ms: about
    // twenty reconciles find none of the pods it created.
    let slow = delaying_proxy(&api.address, Duration::from_secs(2)).await;
    let settings = Settings { resync: Duration::from_millis(100), ..test_settings() };
    let _controller = ControllerProcess::start(&api.address, settings, |ctx| async move {
        let informer_client = Client::connect(&slow).await.expect("proxy reachable");
        replication::start_with(&ctx, Options { informer_client: Some(informer_client), ..Options::default() });
    });
    client.create(controller("web", 3)).await.unwrap();

    eventually("the controller to see its 3 pods through the slow watch", PATIENCE, || async {
        let count = pods_labelled(client, "web").await.len();
        assert!(count <= 3, "{count} pods for 3 replicas");
        (get_rc(client, "web").await.status.unwrap_or_default().replicas == 3).then_some(())
    })
    .await;
    assert_eq!(pods_labelled(client, "web").await.len(), 3);
}
