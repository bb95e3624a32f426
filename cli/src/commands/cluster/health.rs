//! A minimal HTTP GET for health endpoints on loopback.

use anyhow::Context;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Ok when `url` (http://host:port/path, or unix:///socket for a Docker daemon's /_ping) answers 200.
pub async fn check(url: &str) -> anyhow::Result<()> {
    if let Some(socket) = url.strip_prefix("unix://") {
        let exchange = async {
            let mut stream = tokio::net::UnixStream::connect(socket).await?;
            stream.write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n").await?;
            read_all(&mut stream).await
        };
        return answer(exchange).await;
    }
    let rest = url.strip_prefix("http://").context("health URLs are http:// or unix://")?;
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(host).await?;
        stream.write_all(format!("GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").as_bytes()).await?;
        read_all(&mut stream).await
    };
    answer(exchange).await
}

async fn read_all(stream: &mut (impl tokio::io::AsyncRead + Unpin)) -> anyhow::Result<String> {
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    Ok(String::from_utf8_lossy(&response).into_owned())
}

async fn answer(exchange: impl std::future::Future<Output = anyhow::Result<String>>) -> anyhow::Result<()> {
    let response = tokio::time::timeout(Duration::from_secs(2), exchange).await.context("no answer within 2s")??;
    let status_line = response.lines().next().unwrap_or_default();
    if status_line.split_whitespace().nth(1) == Some("200") {
        Ok(())
    } else {
        anyhow::bail!("unhealthy: {status_line}")
    }
}
