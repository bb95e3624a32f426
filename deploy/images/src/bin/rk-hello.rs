//! A tiny web server for tests and examples: every request is answered with
//! `Hello from <hostname>! Visit number <n>.` (a per-process count) and
//! logged as one line on stdout; `GET /healthz` answers `ok` without counting.
//! Every UDP datagram to the same port is answered `Hello from <hostname>!`.
//! Listens on `$PORT` (default 8080); exits 0 on SIGTERM or SIGINT.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};

use rk_images::http::{Request, Response};
use rk_images::server;

const PROGRAM: &str = "rk-hello";

fn main() -> ExitCode {
    let hostname = match rk_images::hostname() {
        Ok(name) => name,
        Err(e) => return server::fail(PROGRAM, format!("reading the host name: {e}")),
    };
    println!("{PROGRAM} on {hostname}");
    let udp = server::port().and_then(|port| {
        rk_images::udp::answer_every_datagram(PROGRAM, port, format!("Hello from {hostname}!\n"))
            .map_err(|e| format!("answering UDP on port {port}: {e}"))
    });
    if let Err(message) = udp {
        return server::fail(PROGRAM, message);
    }
    let visits = AtomicU64::new(0);
    server::serve(PROGRAM, move |request: &Request| {
        if request.method == "GET" && request.path() == "/healthz" {
            return Response::text(200, "ok\n");
        }
        let n = visits.fetch_add(1, Ordering::SeqCst) + 1;
        Response::text(200, format!("Hello from {hostname}! Visit number {n}.\n"))
    })
}
