//! What the benchmarks create and the connections they create it through.

use anyhow::Context;
use prost::Message;
use rk_client::Client;
use rk_proto::v1::{Container, ContainerPort, EnvVar, Namespace, ObjectMeta, Pod, PodSpec, ResourceRequirements};
use rk_proto::Resource;
use std::collections::BTreeMap;

/// A realistic small pod, like a Deployment's replica: Kubernetes' recommended
/// labels, one container with an image, args, two ports, env and resources.
/// About 420 bytes as sent and 560 as stored, once the server has added the
/// uid, timestamps, defaults and status.
pub fn pod(namespace: &str, name: &str) -> Pod {
    let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    };
    let port = |name: &str, number: i32| ContainerPort {
        name: name.into(),
        container_port: number,
        protocol: "TCP".into(),
        ..Default::default()
    };
    let env = |name: &str, value: &str| EnvVar { name: name.into(), value: value.into(), ..Default::default() };
    let container = Container {
        name: "frontend".into(),
        image: "registry.example.com/shop/frontend:1.27.3".into(),
        args: vec!["--listen=:8080".into(), "--metrics=:9090".into()],
        ports: vec![port("http", 8080), port("metrics", 9090)],
        env: vec![env("LOG_LEVEL", "info"), env("CART_SERVICE_ADDR", "cart.shop.svc:7070")],
        resources: Some(ResourceRequirements {
            limits: map(&[("cpu", "500m"), ("memory", "256Mi")]),
            requests: map(&[("cpu", "100m"), ("memory", "128Mi")]),
        }),
        ..Default::default()
    };
    let labels = map(&[
        ("app.kubernetes.io/name", "frontend"),
        ("app.kubernetes.io/part-of", "shop"),
        ("app.kubernetes.io/version", "1.27.3"),
        ("pod-template-hash", "7d9c8b5f6d"),
    ]);
    Pod {
        metadata: Some(ObjectMeta { name: name.into(), namespace: namespace.into(), labels, ..Default::default() }),
        spec: Some(PodSpec { containers: vec![container], restart_policy: "Always".into(), ..Default::default() }),
        ..Default::default()
    }
}

/// Creates namespace `name`; pods can only be created in an existing one.
pub async fn create_namespace(client: &Client, name: &str) -> anyhow::Result<()> {
    let namespace =
        Namespace { metadata: Some(ObjectMeta { name: name.into(), ..Default::default() }), ..Default::default() };
    client.create(namespace).await.with_context(|| format!("creating namespace {name}"))?;
    Ok(())
}

/// Creates a pod and returns its bytes as rk stores them in etcd (the object
/// without its resourceVersion): the baselines write values of this size.
pub async fn stored_pod_bytes(client: &Client, namespace: &str, name: &str) -> anyhow::Result<Vec<u8>> {
    let mut created = client.create(pod(namespace, name)).await.with_context(|| format!("creating pod {name}"))?;
    created.metadata_mut().resource_version.clear();
    Ok(created.encode_to_vec())
}

/// `count` rk clients, each its own HTTP/2 connection.
pub async fn rk_clients(address: &str, count: usize) -> anyhow::Result<Vec<Client>> {
    let mut clients = Vec::with_capacity(count);
    for _ in 0..count {
        clients.push(Client::connect(address).await?);
    }
    Ok(clients)
}

/// `count` etcd clients, each its own HTTP/2 connection.
pub async fn etcd_clients(endpoint: &str, count: usize) -> anyhow::Result<Vec<etcd_client::Client>> {
    let mut clients = Vec::with_capacity(count);
    for _ in 0..count {
        clients.push(etcd_client::Client::connect([endpoint], None).await.context("connecting to etcd")?);
    }
    Ok(clients)
}
