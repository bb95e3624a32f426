//! A real etcd and an in-process apiserver on port-0 listeners.

use rk_apiserver::storage::etcd::EtcdStorage;
use rk_apiserver::{serve, ServerConfig};
use rk_client::Client;
use rk_proto::v1::Pod;
use rk_testkit::TestEtcd;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Cluster {
    pub client: Client,
    _etcd: TestEtcd,
}

pub async fn start() -> Cluster {
    let etcd = TestEtcd::start().await.unwrap();
    let storage = EtcdStorage::connect(&[etcd.endpoint()]).await.unwrap();
    let grpc = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = grpc.local_addr().unwrap().to_string();
    tokio::spawn(serve(Arc::new(storage), ServerConfig::default(), grpc, http, std::future::pending()));
    Cluster { client: Client::connect(&address).await.unwrap(), _etcd: etcd }
}

/// Polls `check` until it returns Some, failing the test after `within`.
pub async fn eventually<T, F: Future<Output = Option<T>>>(
    what: &str,
    within: Duration,
    mut check: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out after {within:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

pub fn node_name(pod: &Pod) -> &str {
    pod.spec.as_ref().map_or("", |spec| spec.node_name.as_str())
}
