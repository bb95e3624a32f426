//! The endpoints controller against a real apiserver on a real etcd.

mod common;

use common::{test_settings, ControllerProcess};
use rk_client::Client;
use rk_controller_manager::endpoints;
use rk_proto::v1::*;
use rk_proto::{IntOrString, Resource};
use rk_test_api::TestApi;
use rk_testkit::eventually;
use std::time::{Duration, Instant};
use tonic::Code;

const NAMESPACE: &str = "default";
const PATIENCE: Duration = Duration::from_secs(20);

fn meta(name: &str, app: &str) -> Option<ObjectMeta> {
    Some(ObjectMeta {
        name: name.into(),
        namespace: NAMESPACE.into(),
        labels: [("app".to_string(), app.to_string())].into(),
        ..Default::default()
    })
}

/// A Service on port 80 whose target is the container port named `web`.
fn service(name: &str, selector: &[(&str, &str)]) -> Service {
    Service {
        metadata: meta(name, name),
        spec: Some(ServiceSpec {
            selector: selector.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            ports: vec![ServicePort {
                name: "http".into(),
                port: 80,
                target_port: Some(IntOrString::string("web")),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A pod labelled `app=web` whose container port `web` is `web_port`.
async fn create_pod(client: &Client, name: &str, web_port: i32) -> Pod {
    let port = ContainerPort { name: "web".into(), container_port: web_port, ..Default::default() };
    let pod = Pod {
        metadata: meta(name, "web"),
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "app".into(),
                image: "app:1".into(),
                ports: vec![port],
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    };
    client.create(pod).await.unwrap()
}

/// What a kubelet reports: the pod runs with `ip`, ready or not.
async fn report(client: &Client, name: &str, ip: &str, ready: bool) {
    let mut pod: Pod = client.get(NAMESPACE, name).await.unwrap();
    pod.status = Some(PodStatus {
        phase: "Running".into(),
        pod_ip: ip.into(),
        conditions: vec![PodCondition {
            r#type: "Ready".into(),
            status: if ready { "True" } else { "False" }.into(),
            ..Default::default()
        }],
        ..Default::default()
    });
    client.update_status(pod).await.unwrap();
}

async fn get_endpoints(client: &Client, name: &str) -> Option<Endpoints> {
    match client.get::<Endpoints>(NAMESPACE, name).await {
        Ok(endpoints) => Some(endpoints),
        Err(status) if status.code() == Code::NotFound => None,
        Err(status) => panic!("reading endpoints {name}: {status}"),
    }
}

/// (ports, ready IPs, not-ready IPs) per subset.
type Shape = Vec<(Vec<(String, i32, String)>, Vec<String>, Vec<String>)>;

fn shape(endpoints: &Endpoints) -> Shape {
    let ips = |addresses: &[EndpointAddress]| addresses.iter().map(|a| a.ip.clone()).collect();
    endpoints
        .subsets
        .iter()
        .map(|subset| {
            let ports = subset.ports.iter().map(|p| (p.name.clone(), p.port, p.protocol.clone())).collect();
            (ports, ips(&subset.addresses), ips(&subset.not_ready_addresses))
        })
        .collect()
}

fn http(port: i32) -> Vec<(String, i32, String)> {
    vec![("http".to_string(), port, "TCP".to_string())]
}

fn ips(list: &[&str]) -> Vec<String> {
    list.iter().map(|ip| ip.to_string()).collect()
}

async fn wait_for_shape(client: &Client, name: &str, expected: Shape) -> Endpoints {
    eventually(&format!("endpoints {name} to be {expected:?}"), PATIENCE, || async {
        get_endpoints(client, name).await.filter(|endpoints| shape(endpoints) == expected)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_follow_the_pods_a_service_selects() {
    let api = TestApi::start().await;
    let client = &api.client;
    let _controller =
        ControllerProcess::start(&api.address, test_settings(), |ctx| async move { endpoints::start(&ctx) });

    // Endpoints someone keeps by hand for a Service without a selector.
    client.create(service("manual", &[])).await.unwrap();
    let manual = Endpoints {
        metadata: meta("manual", "manual"),
        subsets: vec![EndpointSubset {
            addresses: vec![EndpointAddress { ip: "192.168.1.1".into(), ..Default::default() }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let manual = client.create(manual).await.unwrap();

    client.create(service("web", &[("app", "web")])).await.unwrap();
    let a = create_pod(client, "a", 8080).await;
    create_pod(client, "b", 8080).await;
    create_pod(client, "c", 8081).await;
    create_pod(client, "no-ip", 8080).await;
    report(client, "a", "10.1.0.1", true).await;
    report(client, "b", "10.1.0.2", false).await;
    report(client, "c", "10.1.0.3", true).await;

    let endpoints = wait_for_shape(
        client,
        "web",
        vec![(http(8080), ips(&["10.1.0.1"]), ips(&["10.1.0.2"])), (http(8081), ips(&["10.1.0.3"]), vec![])],
    )
    .await;
    let address = &endpoints.subsets[0].addresses[0];
    let target = address.target_ref.clone().unwrap();
    assert_eq!((target.kind.as_str(), target.namespace.as_str(), target.name.as_str()), ("Pod", NAMESPACE, "a"));
    assert_eq!(target.uid, a.metadata().uid);
    assert_eq!(endpoints.metadata().labels["app"], "web", "the Service's labels are copied");

    // Readiness flips move the address within a second.
    let flipped = Instant::now();
    report(client, "b", "10.1.0.2", true).await;
    wait_for_shape(
        client,
        "web",
        vec![(http(8080), ips(&["10.1.0.1", "10.1.0.2"]), vec![]), (http(8081), ips(&["10.1.0.3"]), vec![])],
    )
    .await;
    assert!(flipped.elapsed() < Duration::from_secs(1), "took {:?}", flipped.elapsed());

    // A deleted pod leaves.
    client
        .delete::<Pod>(DeleteRequest { namespace: NAMESPACE.into(), name: "c".into(), ..Default::default() })
        .await
        .unwrap();
    wait_for_shape(client, "web", vec![(http(8080), ips(&["10.1.0.1", "10.1.0.2"]), vec![])]).await;

    // Endpoints of a Service without a selector are not the controller's.
    let untouched = get_endpoints(client, "manual").await.unwrap();
    assert_eq!(untouched.metadata().resource_version, manual.metadata().resource_version);

    // Deleting the Service deletes its Endpoints.
    client
        .delete::<Service>(DeleteRequest { namespace: NAMESPACE.into(), name: "web".into(), ..Default::default() })
        .await
        .unwrap();
    eventually("the endpoints to go with their Service", PATIENCE, || async {
        get_endpoints(client, "web").await.is_none().then_some(())
    })
    .await;
}
