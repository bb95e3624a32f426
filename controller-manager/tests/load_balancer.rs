//! LoadBalancer addresses on a real etcd and apiserver: Services get distinct
//! addresses of the range and keep them across controller restarts; a
//! requested address is given or refused with an event; a full range warns;
//! an address freed by a deleted Service or one that stops being a
//! LoadBalancer goes to a Service waiting for one.

mod common;

use common::{test_settings, wait_for_event, ControllerProcess};
use rk_client::Client;
use rk_controller_manager::{load_balancer, ControllerContext, Settings};
use rk_proto::v1::*;
use rk_test_api::TestApi;
use rk_testkit::eventually;
use std::collections::BTreeSet;
use std::time::Duration;

const PATIENCE: Duration = Duration::from_secs(15);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_get_distinct_addresses_and_keep_them_across_restarts() {
    let api = TestApi::start().await;
    let client = &api.client;
    let settings = || Settings { load_balancer_ip_range: "198.18.255.0/29".into(), ..test_settings() };
    let controllers = ControllerProcess::start(&api.address, settings(), start_load_balancer);
    for name in ["a", "b", "c"] {
        client.create(service(name, "LoadBalancer", "")).await.unwrap();
    }
    let mut before = Vec::new();
    for name in ["a", "b", "c"] {
        before.push(ingress_ip(client, name).await);
    }
    let distinct: BTreeSet<&String> = before.iter().collect();
    assert_eq!(distinct.len(), 3, "every Service has its own address: {before:?}");
    for ip in &before {
        let last: u8 = ip.strip_prefix("198.18.255.").and_then(|n| n.parse().ok()).expect("an address of the range");
        assert!((1..=6).contains(&last), "{ip} is the network or broadcast address of 198.18.255.0/29");
    }
    let allocated = wait_for_event(client, "a", "IPAllocated").await;
    assert_eq!(
        (allocated.r#type.as_str(), allocated.message.clone()),
        ("Normal", format!("Assigned IP {}", before[0]))
    );

    // What the old controller wrote is the record the new one starts from.
    controllers.kill();
    client.create(service("d", "LoadBalancer", "")).await.unwrap();
    let _controllers = ControllerProcess::start(&api.address, settings(), start_load_balancer);
    let d = ingress_ip(client, "d").await;
    assert!(!before.contains(&d), "d got {d}, which is in use: {before:?}");
    for (name, ip) in ["a", "b", "c"].iter().zip(&before) {
        assert_eq!(&ingress_ip(client, name).await, ip, "{name} keeps its address");
    }
    assert_eq!(ingress(client, "d").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_requested_address_is_given_or_refused_and_a_deleted_service_frees_it() {
    let api = TestApi::start().await;
    let client = &api.client;
    let settings = Settings { load_balancer_ip_range: "198.18.255.10-198.18.255.19".into(), ..test_settings() };
    let _controllers = ControllerProcess::start(&api.address, settings, start_load_balancer);
    client.create(service("first", "LoadBalancer", "198.18.255.15")).await.unwrap();
    assert_eq!(ingress_ip(client, "first").await, "198.18.255.15");

    client.create(service("second", "LoadBalancer", "198.18.255.15")).await.unwrap();
    let taken = wait_for_event(client, "second", "AllocationFailed").await;
    assert_eq!(taken.r#type, "Warning");
    assert_eq!(taken.message, "spec.loadBalancerIP 198.18.255.15 is already the ingress IP of Service default/first");
    client.create(service("outside", "LoadBalancer", "198.18.255.20")).await.unwrap();
    let outside = wait_for_event(client, "outside", "AllocationFailed").await;
    assert_eq!(
        outside.message,
        "spec.loadBalancerIP 198.18.255.20 is outside --load-balancer-ip-range 198.18.255.10-198.18.255.19"
    );
    assert!(ingress(client, "second").await.is_empty() && ingress(client, "outside").await.is_empty());

    client.delete::<Service>(delete("first")).await.unwrap();
    assert_eq!(ingress_ip(client, "second").await, "198.18.255.15", "the freed address goes to its requester");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_range_warns_and_a_service_that_stops_being_a_load_balancer_frees_its_address() {
    let api = TestApi::start().await;
    let client = &api.client;
    let settings = Settings { load_balancer_ip_range: "198.18.255.1-198.18.255.2".into(), ..test_settings() };
    let _controllers = ControllerProcess::start(&api.address, settings, start_load_balancer);
    for name in ["a", "b"] {
        client.create(service(name, "LoadBalancer", "")).await.unwrap();
    }
    let a = ingress_ip(client, "a").await;
    assert_ne!(ingress_ip(client, "b").await, a);
    client.create(service("c", "LoadBalancer", "")).await.unwrap();
    let full = wait_for_event(client, "c", "AllocationFailed").await;
    assert_eq!(full.r#type, "Warning");
    assert_eq!(full.message, "--load-balancer-ip-range 198.18.255.1-198.18.255.2 is full: all 2 addresses are in use");
    assert!(ingress(client, "c").await.is_empty());

    let mut now_node_port = client.get::<Service>("default", "a").await.unwrap();
    now_node_port.spec.as_mut().unwrap().r#type = "NodePort".into();
    client.update(now_node_port).await.unwrap();
    eventually("a's ingress cleared", PATIENCE, || async { ingress(client, "a").await.is_empty().then_some(()) }).await;
    assert_eq!(ingress_ip(client, "c").await, a, "c gets the address a let go of");
}

#[tokio::test]
async fn a_bad_range_is_refused_at_start() {
    let channel = tonic::transport::Endpoint::from_static("http://127.0.0.1:1").connect_lazy();
    let settings = Settings { load_balancer_ip_range: "198.18.255.9-198.18.255.1".into(), ..Settings::default() };
    let error = load_balancer::start(&ControllerContext::new(Client::from_channel(channel), settings)).unwrap_err();
    assert_eq!(
        error.to_string(),
        "--load-balancer-ip-range 198.18.255.9-198.18.255.1: the first address must not come after the last"
    );
}

async fn start_load_balancer(ctx: ControllerContext) {
    load_balancer::start(&ctx).expect("valid settings");
}

fn service(name: &str, service_type: &str, load_balancer_ip: &str) -> Service {
    Service {
        metadata: Some(ObjectMeta { name: name.into(), namespace: "default".into(), ..Default::default() }),
        spec: Some(ServiceSpec {
            r#type: service_type.into(),
            load_balancer_ip: load_balancer_ip.into(),
            ports: vec![ServicePort { port: 80, ..Default::default() }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn delete(name: &str) -> DeleteRequest {
    DeleteRequest { namespace: "default".into(), name: name.into(), ..Default::default() }
}

/// The Service's status.loadBalancer.ingress addresses.
async fn ingress(client: &Client, name: &str) -> Vec<String> {
    let service = client.get::<Service>("default", name).await.unwrap();
    let lb = service.status.and_then(|status| status.load_balancer).unwrap_or_default();
    lb.ingress.into_iter().map(|entry| entry.ip).collect()
}

/// Waits for the Service to have exactly one ingress address and returns it.
async fn ingress_ip(client: &Client, name: &str) -> String {
    eventually(&format!("one ingress IP on {name}"), PATIENCE, || async {
        match ingress(client, name).await.as_slice() {
            [ip] => Some(ip.clone()),
            _ => None,
        }
    })
    .await
}
