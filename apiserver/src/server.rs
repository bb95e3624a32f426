//! Assembles the registries and serves gRPC plus the HTTP health and metrics endpoints.

use crate::grpc::Api;
use crate::metrics::Metrics;
use crate::registry::allocator::{Allocator, Range};
use crate::registry::hooks::{Hooks, NoHooks};
use crate::registry::namespace_hooks::NamespaceHooks;
use crate::registry::pod_hooks::PodHooks;
use crate::registry::service_hooks::ServiceHooks;
use crate::registry::strategy::Strategy;
use crate::registry::Registry;
use crate::storage::{Storage, StorageError};
use crate::streaming::{KubeletCredential, StreamingProxy};
use crate::ApiError;
use axum::{extract::State, http::StatusCode, routing::get, Router};
use rk_proto::v1::*;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_stream::StreamExt;

#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// CIDR that Service cluster IPs come from.
    pub service_cluster_ip_range: String,
    /// Inclusive range that node ports come from.
    pub node_port_range: (u32, u32),
    /// Events kept per kind for watches that resume from a resourceVersion.
    pub watch_cache_size: usize,
    /// What the apiserver presents to kubelets for logs and exec; without it those calls fail.
    pub kubelet_credential: Option<KubeletCredential>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            service_cluster_ip_range: "10.96.0.0/16".into(),
            node_port_range: (30000, 32767),
            watch_cache_size: 5000,
            kubelet_credential: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    #[error("could not create the default namespaces: {0}")]
    Bootstrap(#[from] ApiError),
    #[error("gRPC server: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error("HTTP server: {0}")]
    Http(#[from] std::io::Error),
}

/// Serves the API on every one of `grpc_listeners` until `shutdown`
/// completes, then stops accepting and lets requests in flight finish (watch
/// streams are cut after a short drain period).
pub async fn serve(
    storage: Arc<dyn Storage>,
    config: ServerConfig,
    grpc_listeners: Vec<TcpListener>,
    http_listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let service_ips = Range::ipv4_cidr(&config.service_cluster_ip_range).map_err(ServerError::Config)?;
    let (first_port, last_port) = config.node_port_range;
    if first_port == 0 || first_port > last_port || last_port > 65535 {
        return Err(ServerError::Config(format!("node port range {first_port}-{last_port} is not a range of ports")));
    }
    let metrics = Arc::new(Metrics::default());
    let size = config.watch_cache_size;
    let service_hooks = ServiceHooks {
        cluster_ips: Allocator::new(Arc::clone(&storage), "serviceips", service_ips),
        node_ports: Allocator::new(
            Arc::clone(&storage),
            "nodeports",
            Range::Ports { first: first_port, last: last_port },
        ),
    };
    let namespaces = api::<Namespace>(&storage, NamespaceHooks, size, &metrics).await?;
    ensure_default_namespaces(&namespaces.registry).await?;
    let pods = api::<Pod>(&storage, PodHooks, size, &metrics).await?;
    let nodes = api::<Node>(&storage, NoHooks, size, &metrics).await?;
    let streaming = StreamingProxy::new(
        Arc::clone(&pods.registry),
        Arc::clone(&nodes.registry),
        config.kubelet_credential.clone(),
        Arc::clone(&metrics),
    );
    // Responses are unlimited by default (large lists); requests keep tonic's 4 MiB limit.
    let router = tonic::transport::Server::builder()
        .max_concurrent_streams(Some(100_000))
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .add_service(pods_server::PodsServer::new(pods))
        .add_service(replication_controllers_server::ReplicationControllersServer::new(
            api::<ReplicationController>(&storage, NoHooks, size, &metrics).await?,
        ))
        .add_service(services_server::ServicesServer::new(
            api::<Service>(&storage, service_hooks, size, &metrics).await?,
        ))
        .add_service(endpoints_service_server::EndpointsServiceServer::new(
            api::<Endpoints>(&storage, NoHooks, size, &metrics).await?,
        ))
        .add_service(nodes_server::NodesServer::new(nodes))
        .add_service(namespaces_server::NamespacesServer::new(namespaces))
        .add_service(events_server::EventsServer::new(api::<Event>(&storage, NoHooks, size, &metrics).await?))
        .add_service(datasets_server::DatasetsServer::new(api::<Dataset>(&storage, NoHooks, size, &metrics).await?))
        .add_service(rk_proto::streaming::pod_streaming_server::PodStreamingServer::new(streaming));

    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let http = Router::new()
        .route("/healthz", get(health))
        .route("/readyz", get(health))
        .route("/metrics", get(|State(state): State<HttpState>| async move { state.metrics.render() }))
        .with_state(HttpState { storage: Arc::clone(&storage), metrics });
    let http_server = axum::serve(http_listener, http).with_graceful_shutdown(stopped(stop_rx.clone()));
    // Small request/response pairs must not wait for Nagle's algorithm (tonic sets
    // TCP_NODELAY only on listeners it binds itself).
    let connections =
        futures::stream::select_all(grpc_listeners.into_iter().map(TcpListenerStream::new)).map(|connection| {
            connection.inspect(|stream| {
                let _ = stream.set_nodelay(true);
            })
        });
    let grpc_server = router.serve_with_incoming_shutdown(connections, stopped(stop_rx.clone()));
    let drain_deadline = async move {
        stopped(stop_rx).await;
        tokio::time::sleep(Duration::from_secs(5)).await;
    };
    tokio::select! {
        result = async { tokio::try_join!(async { grpc_server.await.map_err(ServerError::from) }, async { http_server.await.map_err(ServerError::from) }) } => result.map(|_| ()),
        () = drain_deadline => Ok(()),
    }
}

async fn api<R: Strategy>(
    storage: &Arc<dyn Storage>,
    hooks: impl Hooks<R>,
    watch_cache_size: usize,
    metrics: &Arc<Metrics>,
) -> Result<Api<R>, ServerError> {
    let registry = Registry::<R>::start(Arc::clone(storage), Arc::new(hooks), watch_cache_size).await?;
    Ok(Api::new(Arc::new(registry), Arc::clone(metrics)))
}

/// Kubernetes starts with `default`, and `kube-system` for the control plane's own objects (leader locks).
async fn ensure_default_namespaces(namespaces: &Registry<Namespace>) -> Result<(), ApiError> {
    for name in ["default", "kube-system"] {
        let namespace =
            Namespace { metadata: Some(ObjectMeta { name: name.into(), ..Default::default() }), ..Default::default() };
        match namespaces.create(namespace).await {
            Ok(_) | Err(ApiError::AlreadyExists { .. }) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

#[derive(Clone)]
struct HttpState {
    storage: Arc<dyn Storage>,
    metrics: Arc<Metrics>,
}

/// Healthy when etcd answers.
async fn health(State(state): State<HttpState>) -> (StatusCode, String) {
    match tokio::time::timeout(Duration::from_secs(2), state.storage.current_revision()).await {
        Ok(Ok(_)) => (StatusCode::OK, "ok\n".into()),
        Ok(Err(error)) => (StatusCode::SERVICE_UNAVAILABLE, format!("etcd: {error}\n")),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "etcd: no answer within 2s\n".into()),
    }
}
