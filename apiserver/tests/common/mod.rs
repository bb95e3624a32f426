//! An apiserver on a real etcd, served in-process on port-0 listeners.
// Each test binary includes this module and uses a different part of it.
#![allow(dead_code)]

use rk_apiserver::storage::etcd::EtcdStorage;
use rk_apiserver::{serve, ServerConfig};
use rk_client::Client;
use rk_testkit::TestEtcd;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub struct TestApi {
    pub client: Client,
    /// The gRPC address, for clients of services `Client` does not cover.
    pub address: String,
    pub health_address: String,
    pub etcd: TestEtcd,
    _stop: oneshot::Sender<()>,
}

pub async fn start() -> TestApi {
    start_with(ServerConfig::default()).await
}

pub async fn start_with(config: ServerConfig) -> TestApi {
    let etcd = TestEtcd::start().await.expect("etcd starts");
    let storage = EtcdStorage::connect(&[etcd.endpoint()]).await.expect("etcd reachable");
    let grpc = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = grpc.local_addr().unwrap().to_string();
    let health_address = http.local_addr().unwrap().to_string();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        serve(Arc::new(storage), config, grpc, http, async {
            let _ = stopped.await;
        })
        .await
        .expect("apiserver serves");
    });
    let client = Client::connect(&address).await.expect("apiserver reachable");
    TestApi { client, address, health_address, etcd, _stop: stop }
}

/// Another apiserver on the same storage, serving until the test ends.
pub async fn serve_on(storage: Arc<dyn rk_apiserver::storage::Storage>, config: ServerConfig) -> Client {
    let grpc = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = grpc.local_addr().unwrap().to_string();
    tokio::spawn(serve(storage, config, grpc, http, std::future::pending()));
    Client::connect(&address).await.expect("second apiserver reachable")
}

/// Parses a manifest into one typed object.
pub fn object<R: rk_proto::Resource>(yaml: &str) -> R {
    let decoded = rk_proto::decode_manifests(yaml, Default::default()).expect("test manifest decodes");
    let value =
        rk_proto::with_object!(decoded.objects.into_iter().next().unwrap(), o => serde_json::to_value(o).unwrap());
    serde_json::from_value(value).unwrap()
}
