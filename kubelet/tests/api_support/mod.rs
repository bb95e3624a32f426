//! An apiserver on a real etcd, served in-process on port-0 listeners, and
//! polling with a deadline: what the kubelet's API tests share.
#![allow(dead_code)] // Each test binary uses its own part.

use rk_apiserver::storage::etcd::EtcdStorage;
use rk_apiserver::{serve, ServerConfig};
use rk_client::Client;
use rk_testkit::TestEtcd;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// How long a test waits for something that should happen (a deadline, not a sleep).
pub const PATIENCE: Duration = Duration::from_secs(30);

/// An apiserver on its own etcd; both stop when this is dropped.
pub struct TestApi {
    pub client: Client,
    _etcd: TestEtcd,
    _stop: oneshot::Sender<()>,
}

pub async fn start_api() -> TestApi {
    let etcd = TestEtcd::start().await.expect("etcd starts");
    let storage = EtcdStorage::connect(&[etcd.endpoint()]).await.expect("etcd reachable");
    let grpc = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = grpc.local_addr().unwrap().to_string();
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown = async {
        let _ = stopped.await;
    };
    tokio::spawn(serve(Arc::new(storage), ServerConfig::default(), grpc, http, shutdown));
    let client = Client::connect(&address).await.expect("apiserver reachable");
    TestApi { client, _etcd: etcd, _stop: stop }
}

/// Polls `check` every 50 ms until it returns `Some`, panicking with `what` after PATIENCE.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out after {PATIENCE:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
