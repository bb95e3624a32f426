//! One HTTP/1.0 request with short timeouts: how the bench asks a Service
//! whether it answers. From the host to node addresses and ingress IPs, or,
//! for a cluster IP, from inside a node's network namespace.

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TIMEOUT: Duration = Duration::from_secs(2);

/// The status code and body of `method path` to `address` (`ip:port`), with a form `body` for POST.
pub async fn request(address: &str, method: &str, path: &str, body: &str) -> anyhow::Result<(u16, String)> {
    let exchange = async {
        let mut stream = TcpStream::connect(address).await?;
        let head = format!(
            "{method} {path} HTTP/1.0\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        let mut reply = String::new();
        stream.read_to_string(&mut reply).await?;
        anyhow::Ok(reply)
    };
    let reply = tokio::time::timeout(TIMEOUT, exchange).await??;
    let status = reply.split_whitespace().nth(1).and_then(|code| code.parse().ok());
    let status = status.ok_or_else(|| anyhow::anyhow!("no HTTP status in {reply:?}"))?;
    let body = reply.split_once("\r\n\r\n").map_or("", |(_, body)| body).to_string();
    Ok((status, body))
}

/// Whether `GET path` to `address` answers 200.
pub async fn get_ok(address: &str, path: &str) -> bool {
    matches!(request(address, "GET", path, "").await, Ok((200, _)))
}

/// Whether `GET path` to `address` answers 200 from inside the network
/// namespace `netns`: asked from a thread of its own that enters it, so no
/// other thread leaves the host's namespace.
pub async fn get_ok_in(netns: &str, address: &str, path: &str) -> bool {
    let (netns, address, path) = (format!("/run/netns/{netns}"), address.to_string(), path.to_string());
    let (sender, receiver) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let answered = enter(&netns).is_ok()
            && tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .is_ok_and(|runtime| runtime.block_on(get_ok(&address, &path)));
        let _ = sender.send(answered);
    });
    receiver.await.unwrap_or(false)
}

/// Moves the calling thread into the network namespace at `path`.
fn enter(path: &str) -> std::io::Result<()> {
    let file = std::fs::File::open(path)?;
    // SAFETY: setns only changes this thread's network namespace to the one the open fd names.
    if unsafe { libc::setns(std::os::fd::AsRawFd::as_raw_fd(&file), libc::CLONE_NEWNET) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}
