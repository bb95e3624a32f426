//! The small HTTP server every component runs next to its real work:
//! `/healthz` for `rkctl cluster up` and systemd checks, `/metrics` in
//! Prometheus text format.

use axum::{routing::get, Router};
use std::sync::Arc;
use tokio::net::TcpListener;

/// Renders the component's metrics as Prometheus text.
pub type MetricsFn = Arc<dyn Fn() -> String + Send + Sync>;

/// Binds `address` and serves in the background; an address that cannot be bound is an error at start.
pub async fn start(address: &str, metrics: MetricsFn) -> std::io::Result<()> {
    let listener = TcpListener::bind(address).await?;
    let app = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(move || std::future::ready(metrics())));
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "status server stopped");
        }
    });
    Ok(())
}
