//! HTTP/1.0 and HTTP/1.1 as far as rk's image programs need it: one request
//! head and `Content-Length` body read with bounds, one response written.

use std::io::{self, BufRead, Read, Write};

/// Bounds one request's head, so a client cannot make the server hoard memory.
pub const MAX_HEAD_BYTES: u64 = 64 * 1024;
/// Bounds one request's body.
pub const MAX_BODY_BYTES: u64 = 64 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: String,
    /// The request target as sent: path and query.
    pub target: String,
    pub keep_alive: bool,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Request {
    /// The target without its query.
    pub fn path(&self) -> &str {
        self.target.split_once('?').map_or(&self.target, |(path, _)| path)
    }

    /// The query after `?`, empty without one.
    pub fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, query)| query)
    }

    /// Whether the body is an HTML form (`application/x-www-form-urlencoded`).
    pub fn is_form(&self) -> bool {
        self.content_type.as_deref().is_some_and(|value| {
            value.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn text(status: u16, body: impl Into<String>) -> Response {
        Response { status, content_type: "text/plain; charset=utf-8", headers: Vec::new(), body: body.into().into() }
    }

    pub fn html(status: u16, body: impl Into<String>) -> Response {
        Response { status, content_type: "text/html; charset=utf-8", headers: Vec::new(), body: body.into().into() }
    }

    /// `303 See Other` to `location`: where a browser goes after posting a form.
    pub fn see_other(location: &str) -> Response {
        let mut response = Response::text(303, format!("see {location}\n"));
        response.headers.push(("Location", location.to_string()));
        response
    }

    pub fn not_found(path: &str) -> Response {
        Response::text(404, format!("{path} not found\n"))
    }

    pub fn method_not_allowed(method: &str, path: &str, allowed: &'static str) -> Response {
        let mut response = Response::text(405, format!("{method} is not allowed on {path} (allowed: {allowed})\n"));
        response.headers.push(("Allow", allowed.to_string()));
        response
    }
}

/// The reason phrase of the status codes rk's programs answer with.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        303 => "See Other",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// Reads one request with its body; `None` when the client closed the
/// connection before a new request. A malformed request is an
/// [`io::ErrorKind::InvalidData`] error whose message says what is wrong.
pub fn read_request<R: BufRead>(reader: &mut R) -> io::Result<Option<Request>> {
    let mut head = reader.by_ref().take(MAX_HEAD_BYTES);
    let mut line = String::new();
    if head.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (method, target, version) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(method), Some(target), Some(version), None) if version.starts_with("HTTP/1.") => {
            (method.to_string(), target.to_string(), version.to_string())
        }
        _ => return Err(invalid(format!("bad request line {:?}", line.trim_end()))),
    };
    let mut keep_alive = version == "HTTP/1.1";
    let mut content_length = 0u64;
    let mut content_type = None;
    loop {
        line.clear();
        if head.read_line(&mut line)? == 0 {
            return Err(match head.limit() {
                0 => invalid(format!("the request head is over {MAX_HEAD_BYTES} bytes")),
                _ => io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed inside a request head"),
            });
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(':') else { continue };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            content_length =
                value.parse().map_err(|_| invalid(format!("Content-Length {value:?} is not a byte count")))?;
        } else if name.eq_ignore_ascii_case("content-type") {
            content_type = Some(value.to_string());
        } else if name.eq_ignore_ascii_case("transfer-encoding") && !value.eq_ignore_ascii_case("identity") {
            return Err(invalid(format!("Transfer-Encoding {value:?} is not supported: send a Content-Length")));
        } else if name.eq_ignore_ascii_case("connection") {
            keep_alive = match value.to_ascii_lowercase().as_str() {
                "close" => false,
                "keep-alive" => true,
                _ => keep_alive,
            };
        }
    }
    if content_length > MAX_BODY_BYTES {
        return Err(invalid(format!("the body is {content_length} bytes; at most {MAX_BODY_BYTES} are accepted")));
    }
    let mut body = Vec::with_capacity(content_length as usize);
    reader.by_ref().take(content_length).read_to_end(&mut body)?;
    if body.len() as u64 != content_length {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed inside a request body"));
    }
    Ok(Some(Request { method, target, keep_alive, content_type, body }))
}

/// Writes `response`, saying whether the connection stays open.
pub fn write_response<W: Write>(writer: &mut W, response: &Response, keep_alive: bool) -> io::Result<()> {
    let status = response.status;
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n",
        reason(status),
        response.content_type,
        response.body.len(),
        if keep_alive { "keep-alive" } else { "close" },
    );
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    writer.write_all(head.as_bytes())?;
    writer.write_all(&response.body)?;
    writer.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> io::Result<Option<Request>> {
        read_request(&mut io::BufReader::new(text.as_bytes()))
    }

    #[test]
    fn a_get_with_a_query_and_kept_alive_by_default_in_1_1() {
        let request = parse("GET /add?entry=hi HTTP/1.1\r\nHost: x\r\n\r\n").unwrap().unwrap();
        assert_eq!((request.method.as_str(), request.path(), request.query()), ("GET", "/add", "entry=hi"));
        assert!(request.keep_alive);
        assert!(request.body.is_empty());
        let request = parse("GET / HTTP/1.0\r\n\r\n").unwrap().unwrap();
        assert!(!request.keep_alive, "HTTP/1.0 closes unless asked");
        assert_eq!(request.query(), "");
        let request = parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").unwrap().unwrap();
        assert!(request.keep_alive);
    }

    #[test]
    fn a_post_body_is_read_and_the_next_request_follows_it() {
        let text = "POST /entries HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                    Content-Length: 8\r\nConnection: close\r\n\r\nentry=hiGET / HTTP/1.1\r\n\r\n";
        let mut reader = io::BufReader::new(text.as_bytes());
        let post = read_request(&mut reader).unwrap().unwrap();
        assert_eq!(post.body, b"entry=hi");
        assert!(post.is_form() && !post.keep_alive);
        assert_eq!(read_request(&mut reader).unwrap().unwrap().target, "/");
        assert_eq!(read_request(&mut reader).unwrap(), None);
    }

    #[test]
    fn malformed_or_oversized_requests_say_what_is_wrong() {
        let message = |text: &str| parse(text).unwrap_err().to_string();
        assert!(message("HELLO\r\n\r\n").contains("bad request line"));
        assert!(message("GET / SPDY/3\r\n\r\n").contains("bad request line"));
        assert!(message("POST / HTTP/1.1\r\nContent-Length: many\r\n\r\n").contains("not a byte count"));
        assert!(message("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").contains("Content-Length"));
        assert!(message("POST / HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n").contains("at most"));
        assert!(message("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab").contains("inside a request body"));
        let huge = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(MAX_HEAD_BYTES as usize));
        assert!(message(&huge).contains("request head is over"));
    }

    #[test]
    fn responses_carry_length_connection_and_extra_headers() {
        let mut out = Vec::new();
        write_response(&mut out, &Response::see_other("/"), false).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 303 See Other\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 6\r\n\
             Connection: close\r\nLocation: /\r\n\r\nsee /\n"
        );
    }
}
