//! A tiny HTTP/1.1 server for tests and examples: every request is answered
//! with `Hello from <hostname>! Visit number <n>.` (a per-process count) and
//! logged as one line on stdout; `GET /healthz` answers `ok` without counting.
//! Listens on `$PORT` (default 8080); exits 0 on SIGTERM or SIGINT.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

const DEFAULT_PORT: u16 = 8080;
/// Bounds one request's head, so a client cannot make the server hoard memory.
const MAX_HEAD_BYTES: u64 = 64 * 1024;

fn main() -> ExitCode {
    // Blocked before any thread starts, so only the waiting thread takes them.
    let signals = match rk_images::block_signals(&[libc::SIGTERM, libc::SIGINT]) {
        Ok(set) => set,
        Err(e) => return fail(format!("blocking signals: {e}")),
    };
    let port = match std::env::var("PORT") {
        Err(_) => DEFAULT_PORT,
        Ok(text) => match text.parse::<u16>() {
            Ok(port) => port,
            Err(_) => return fail(format!("PORT={text:?} is not a port number (0-65535)")),
        },
    };
    let hostname = match rk_images::hostname() {
        Ok(name) => Arc::new(name),
        Err(e) => return fail(format!("reading the host name: {e}")),
    };
    let listener = match TcpListener::bind(("0.0.0.0", port)) {
        Ok(listener) => listener,
        Err(e) => return fail(format!("listening on port {port}: {e}")),
    };
    println!("rk-hello {hostname} listening on port {port}");
    std::thread::spawn(move || {
        match rk_images::wait_signal(&signals) {
            Ok(signal) => println!("rk-hello stopping on signal {signal}"),
            Err(e) => eprintln!("rk-hello: waiting for signals: {e}; stopping"),
        }
        std::process::exit(0);
    });
    let visits = Arc::new(AtomicU64::new(0));
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let (hostname, visits) = (hostname.clone(), visits.clone());
        std::thread::spawn(move || {
            if let Err(e) = serve_connection(stream, &hostname, &visits) {
                eprintln!("rk-hello: connection: {e}");
            }
        });
    }
    ExitCode::SUCCESS
}

fn fail(message: String) -> ExitCode {
    eprintln!("rk-hello: {message}");
    ExitCode::FAILURE
}

struct Request {
    method: String,
    path: String,
    keep_alive: bool,
}

/// Answers the requests of one (possibly kept-alive) connection.
fn serve_connection(stream: TcpStream, hostname: &str, visits: &AtomicU64) -> io::Result<()> {
    let peer = stream.peer_addr()?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    while let Some(request) = read_request(&mut reader)? {
        let body = if request.method == "GET" && request.path == "/healthz" {
            "ok\n".to_string()
        } else {
            let n = visits.fetch_add(1, Ordering::SeqCst) + 1;
            format!("Hello from {hostname}! Visit number {n}.\n")
        };
        log_request(peer, &request);
        let connection = if request.keep_alive { "keep-alive" } else { "close" };
        write!(
            writer,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: {connection}\r\n\r\n{body}",
            body.len()
        )?;
        writer.flush()?;
        if !request.keep_alive {
            break;
        }
    }
    Ok(())
}

fn log_request(peer: SocketAddr, request: &Request) {
    println!("{} {} from {peer}", request.method, request.path);
}

/// Reads one request head and skips its body; `None` when the client closed.
fn read_request(reader: &mut BufReader<TcpStream>) -> io::Result<Option<Request>> {
    let mut head = reader.by_ref().take(MAX_HEAD_BYTES);
    let mut line = String::new();
    if head.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (method, path, version) = match (parts.next(), parts.next(), parts.next()) {
        (Some(method), Some(path), Some(version)) => (method.to_string(), path.to_string(), version.to_string()),
        _ => return Err(io::Error::new(io::ErrorKind::InvalidData, format!("bad request line {line:?}"))),
    };
    let mut keep_alive = version == "HTTP/1.1";
    let mut content_length = 0u64;
    loop {
        line.clear();
        if head.read_line(&mut line)? == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed inside a request head"));
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(':') else { continue };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            content_length = value.parse().map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidData, format!("Content-Length {value:?} is not a byte count"))
            })?;
        } else if name.eq_ignore_ascii_case("connection") {
            keep_alive = match value.to_ascii_lowercase().as_str() {
                "close" => false,
                "keep-alive" => true,
                _ => keep_alive,
            };
        }
    }
    io::copy(&mut reader.by_ref().take(content_length), &mut io::sink())?;
    Ok(Some(Request { method, path, keep_alive }))
}
