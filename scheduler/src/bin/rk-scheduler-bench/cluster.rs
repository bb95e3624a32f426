//! A throwaway etcd and an in-process apiserver, the scheduler under test and
//! the controller manager's replication controller, each component on a tokio
//! runtime of its own with named threads: the OS
//! shares the cores among them as among separate processes, and each one's
//! CPU time can be read per thread.

use anyhow::Context;
use rk_apiserver::storage::etcd::EtcdStorage;
use rk_apiserver::{serve, ServerConfig};
use rk_client::Client;
use rk_controller_manager::{replication, ControllerContext, Settings};
use rk_scheduler::{Metrics, Options, Scheduler};
use rk_testkit::TestEtcd;
use std::future::Future;
use std::sync::Arc;
use tokio::runtime::Runtime;

pub const APISERVER_THREADS: &str = "rk-apiserver";
pub const SCHEDULER_THREADS: &str = "rk-scheduler";
pub const CONTROLLER_MANAGER_THREADS: &str = "rk-controllers";

/// A runtime that is shut down, with everything on it, when dropped.
struct Component(Option<Runtime>);

impl Component {
    fn start(threads: &str) -> anyhow::Result<Component> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(threads)
            .enable_all()
            .build()
            .with_context(|| format!("starting the {threads} runtime"))?;
        Ok(Component(Some(runtime)))
    }

    /// Runs `future` on this component's runtime (listeners and connections
    /// belong to the runtime that creates them).
    async fn run<T: Send + 'static>(&self, future: impl Future<Output = T> + Send + 'static) -> anyhow::Result<T> {
        Ok(self.0.as_ref().expect("running").spawn(future).await?)
    }
}

impl Drop for Component {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

pub struct Cluster {
    _etcd: TestEtcd,
    /// `127.0.0.1:PORT` of the apiserver's gRPC API.
    pub address: String,
    _apiserver: Component,
}

impl Cluster {
    pub async fn start() -> anyhow::Result<Cluster> {
        let etcd = TestEtcd::start().await?;
        let apiserver = Component::start(APISERVER_THREADS)?;
        let endpoint = etcd.endpoint();
        let address = apiserver
            .run(async move {
                let storage = EtcdStorage::connect(&[endpoint]).await.context("connecting the apiserver to etcd")?;
                let grpc = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                let http = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                let address = grpc.local_addr()?.to_string();
                tokio::spawn(serve(
                    Arc::new(storage),
                    ServerConfig::default(),
                    vec![grpc],
                    http,
                    std::future::pending(),
                ));
                anyhow::Ok(address)
            })
            .await??;
        Ok(Cluster { _etcd: etcd, address, _apiserver: apiserver })
    }

    /// `count` clients, each its own HTTP/2 connection.
    pub async fn clients(&self, count: usize) -> anyhow::Result<Vec<Client>> {
        let mut clients = Vec::with_capacity(count);
        for _ in 0..count {
            clients.push(Client::connect(&self.address).await?);
        }
        Ok(clients)
    }

    /// Starts a scheduler (no leader election) on its own runtime; it stops when the handle is dropped.
    pub async fn start_scheduler(&self, options: Options) -> anyhow::Result<RunningScheduler> {
        let component = Component::start(SCHEDULER_THREADS)?;
        let address = self.address.clone();
        let metrics = component
            .run(async move {
                let scheduler = Scheduler::new(Client::connect(&address).await?, options);
                let metrics = scheduler.metrics();
                tokio::spawn(scheduler.run(std::future::pending()));
                anyhow::Ok(metrics)
            })
            .await??;
        Ok(RunningScheduler { metrics, _component: component })
    }

    /// Starts the replication controller (default settings) on its own
    /// runtime; it stops when the handle is dropped.
    pub async fn start_replication_controller(&self) -> anyhow::Result<RunningComponent> {
        let component = Component::start(CONTROLLER_MANAGER_THREADS)?;
        let address = self.address.clone();
        component
            .run(async move {
                let client = Client::connect(&address).await?;
                replication::start(&ControllerContext::new(client, Settings::default()));
                anyhow::Ok(())
            })
            .await??;
        Ok(RunningComponent { _component: component })
    }
}

/// A component that runs until dropped.
pub struct RunningComponent {
    _component: Component,
}

pub struct RunningScheduler {
    pub metrics: Arc<Metrics>,
    _component: Component,
}
