//! The web server loop rk's image programs share: listens on `$PORT`
//! (default 8080), answers each connection in its own thread with a handler,
//! logs one line per request on stdout and exits 0 on SIGTERM or SIGINT.

use std::io::{BufReader, ErrorKind};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use crate::http::{self, Request, Response};

pub const DEFAULT_PORT: u16 = 8080;
/// The signals that stop a server (it exits 0 on them).
pub const STOP_SIGNALS: [libc::c_int; 2] = [libc::SIGTERM, libc::SIGINT];
/// How long a connection may sit idle (between or inside requests).
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Serves `handler` until a signal stops the process; `program` names it in
/// log lines. Returns only on a start-up failure (a bad `$PORT`, a port in use).
pub fn serve<H>(program: &'static str, handler: H) -> ExitCode
where
    H: Fn(&Request) -> Response + Send + Sync + 'static,
{
    // Blocked before any thread starts, so only the waiting thread takes them.
    let signals = match crate::block_signals(&STOP_SIGNALS) {
        Ok(set) => set,
        Err(e) => return fail(program, format!("blocking signals: {e}")),
    };
    let port = match port() {
        Ok(port) => port,
        Err(message) => return fail(program, message),
    };
    let listener = match TcpListener::bind(("0.0.0.0", port)) {
        Ok(listener) => listener,
        Err(e) => return fail(program, format!("listening on port {port}: {e}")),
    };
    println!("{program} listening on port {port}");
    std::thread::spawn(move || {
        match crate::wait_signal(&signals) {
            Ok(signal) => println!("{program} stopping on signal {signal}"),
            Err(e) => eprintln!("{program}: waiting for signals: {e}; stopping"),
        }
        std::process::exit(0);
    });
    let handler = Arc::new(handler);
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let handler = handler.clone();
        std::thread::spawn(move || {
            if let Err(e) = serve_connection(stream, handler.as_ref()) {
                eprintln!("{program}: connection: {e}");
            }
        });
    }
    ExitCode::SUCCESS
}

/// `$PORT`, or the default.
pub fn port() -> Result<u16, String> {
    match std::env::var("PORT") {
        Err(_) => Ok(DEFAULT_PORT),
        Ok(text) => text.parse::<u16>().map_err(|_| format!("PORT={text:?} is not a port number (0-65535)")),
    }
}

pub fn fail(program: &str, message: String) -> ExitCode {
    eprintln!("{program}: {message}");
    ExitCode::FAILURE
}

/// Answers the requests of one (possibly kept-alive) connection; a malformed
/// request gets a 400 saying why, and the connection closes.
fn serve_connection(stream: TcpStream, handler: &dyn Fn(&Request) -> Response) -> std::io::Result<()> {
    stream.set_read_timeout(Some(IDLE_TIMEOUT))?;
    let peer = stream.peer_addr()?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let request = match http::read_request(&mut reader) {
            Ok(Some(request)) => request,
            Ok(None) => return Ok(()),
            Err(e) if e.kind() == ErrorKind::InvalidData => {
                println!("bad request from {peer}: {e}");
                return http::write_response(&mut writer, &Response::text(400, format!("{e}\n")), false);
            }
            Err(e) => return Err(e),
        };
        let response = handler(&request);
        log_request(peer, &request, &response);
        http::write_response(&mut writer, &response, request.keep_alive)?;
        if !request.keep_alive {
            return Ok(());
        }
    }
}

fn log_request(peer: SocketAddr, request: &Request, response: &Response) {
    println!("{} {} from {peer}: {}", request.method, request.target, response.status);
}
