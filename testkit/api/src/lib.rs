//! rk-apiserver on a real etcd, served in-process on port-0 loopback
//! listeners, with a connected [`Client`]: the harness of every integration
//! test that talks to the API.

use rk_apiserver::storage::etcd::EtcdStorage;
use rk_apiserver::{serve, ServerConfig};
use rk_client::Client;
use rk_testkit::TestEtcd;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// An apiserver on its own etcd. When this is dropped the apiserver (and any
/// started by [`another`](Self::another)) stops and etcd is removed.
pub struct TestApi {
    // First, so the apiservers are told to stop before etcd goes.
    stop: watch::Sender<()>,
    pub client: Client,
    /// The gRPC address (`127.0.0.1:port`), for components that connect
    /// themselves and for services `Client` does not cover.
    pub address: String,
    /// The HTTP address of `/healthz` and `/metrics`.
    pub health_address: String,
    etcd: TestEtcd,
}

impl TestApi {
    /// Starts etcd and an apiserver with the default configuration.
    pub async fn start() -> TestApi {
        TestApi::start_with(ServerConfig::default()).await
    }

    /// Starts etcd and an apiserver with `config` (a kubelet credential, a
    /// small watch cache, ...).
    pub async fn start_with(config: ServerConfig) -> TestApi {
        let etcd = TestEtcd::start().await.expect("etcd starts");
        let (stop, _) = watch::channel(());
        let storage = connect(&etcd).await;
        let (address, health_address) = serve_until_stopped(storage, config, &stop).await;
        let client = Client::connect(&address).await.expect("apiserver reachable");
        TestApi { stop, client, address, health_address, etcd }
    }

    /// A storage client of this apiserver's etcd, for what only storage can do
    /// (compaction, reading the revision).
    pub async fn storage(&self) -> EtcdStorage {
        connect(&self.etcd).await
    }

    /// Another apiserver on the same etcd, as a second replica; it stops with
    /// this one.
    pub async fn another(&self, config: ServerConfig) -> Client {
        let (address, _) = serve_until_stopped(self.storage().await, config, &self.stop).await;
        Client::connect(&address).await.expect("second apiserver reachable")
    }
}

async fn connect(etcd: &TestEtcd) -> EtcdStorage {
    EtcdStorage::connect(&[etcd.endpoint()]).await.expect("etcd reachable")
}

/// Serves on fresh loopback ports until `stop` is dropped; returns the gRPC
/// and HTTP addresses.
async fn serve_until_stopped(storage: EtcdStorage, config: ServerConfig, stop: &watch::Sender<()>) -> (String, String) {
    let grpc = TcpListener::bind("127.0.0.1:0").await.expect("binding a loopback port");
    let http = TcpListener::bind("127.0.0.1:0").await.expect("binding a loopback port");
    let address = grpc.local_addr().expect("a bound address").to_string();
    let health_address = http.local_addr().expect("a bound address").to_string();
    let mut stopped = stop.subscribe();
    tokio::spawn(async move {
        // `changed` fails once the sender is gone: nothing is ever sent.
        let shutdown = async move {
            let _ = stopped.changed().await;
        };
        serve(Arc::new(storage), config, vec![grpc], http, shutdown).await.expect("apiserver serves");
    });
    (address, health_address)
}
