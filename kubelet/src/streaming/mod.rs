//! The kubelet's streaming endpoint: logs and exec for the containers of this
//! node's pods, served as rk.streaming.v1.PodStreaming to the apiserver only
//! (every call must carry the apiserver's bearer token), and the datasets of
//! this node as rk.streaming.v1.DatasetTransfer to the other kubelets (same
//! port, same token).

mod auth;
mod exec;
mod resolve;
mod service;
pub mod testing;

pub use auth::Authenticator;
pub use service::KubeletStreaming;

use crate::datasets::transfer::{DatasetSource, TransferService};
use crate::runtime::ContainerRuntime;
use rk_proto::streaming::pod_streaming_server::PodStreamingServer;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_stream::StreamExt;

/// How long `follow` logs and exec sessions may run on after shutdown is asked for.
const DRAIN_PERIOD: Duration = Duration::from_secs(5);

/// Serves logs and exec until `shutdown` completes. `token` is the bearer
/// token the apiserver presents; an empty one refuses every call.
pub async fn serve(
    listener: TcpListener,
    runtime: Arc<dyn ContainerRuntime>,
    token: String,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    serve_with_datasets(listener, runtime, token, None, shutdown).await
}

/// [`serve`], plus the DatasetTransfer service for the datasets `datasets`
/// finds (the kubelet's `<root-dir>/datasets/<namespace>/<name>`).
pub async fn serve_with_datasets(
    listener: TcpListener,
    runtime: Arc<dyn ContainerRuntime>,
    token: String,
    datasets: Option<Arc<dyn DatasetSource>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    if token.is_empty() {
        tracing::warn!("no streaming token configured: the streaming endpoint refuses every call");
    }
    let transfer = datasets.map(|source| TransferService::new(source).into_server(token.clone()));
    let service = PodStreamingServer::with_interceptor(KubeletStreaming::new(runtime), Authenticator::new(token));
    // Keystrokes of an interactive exec must not wait for Nagle's algorithm.
    let connections = TcpListenerStream::new(listener).map(|connection| {
        connection.inspect(|stream| {
            let _ = stream.set_nodelay(true);
        })
    });
    let (stop_tx, mut stop_rx) = watch::channel(false);
    let server = tonic::transport::Server::builder()
        .add_service(service)
        .add_optional_service(transfer)
        .serve_with_incoming_shutdown(connections, async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        });
    // Graceful shutdown waits for calls in flight; a `follow` stream never ends by itself.
    let drain_deadline = async move {
        let _ = stop_rx.wait_for(|stop| *stop).await;
        tokio::time::sleep(DRAIN_PERIOD).await;
    };
    tokio::select! {
        result = server => result,
        () = drain_deadline => Ok(()),
    }
}
