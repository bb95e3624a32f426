//! One HTTP/1.0 exchange per connection, for the demo applications the
//! end-to-end tests talk to.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// `method path` with a form body (empty for none): the status code and the body.
pub fn request(address: SocketAddr, method: &str, path: &str, form: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let headers = match form {
        "" => String::new(),
        _ => format!("Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n", form.len()),
    };
    stream.write_all(format!("{method} {path} HTTP/1.0\r\n{headers}\r\n{form}").as_bytes())?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply)?;
    let status = reply.split_whitespace().nth(1).and_then(|code| code.parse().ok());
    let body = reply.split_once("\r\n\r\n").map(|(_, body)| body.to_string()).unwrap_or_default();
    status.map(|status| (status, body)).ok_or_else(|| std::io::Error::other(format!("not HTTP: {reply:?}")))
}

/// One `GET path`: the status code and the body.
pub fn get(address: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    request(address, "GET", path, "")
}

/// `GET path` until it answers `status` (at most 60 s: the application or
/// its database may be starting), then the body.
pub fn get_until(address: SocketAddr, path: &str, status: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match get(address, path) {
            Ok((answered, body)) if answered == status => return body,
            answer => assert!(Instant::now() < deadline, "{address}{path} never answered {status}: {answer:?}"),
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
