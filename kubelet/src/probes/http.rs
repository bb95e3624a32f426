//! A minimal HTTP/1.1 GET for httpGet probes: only the status line matters
//! (200-399 is healthy; a redirect counts as healthy without being followed).

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest status line read before the response is called malformed.
const MAX_STATUS_LINE: usize = 4096;

/// The status code of `GET http://host:port{path}`, or why there is none.
pub async fn get_status(host: &str, port: u16, path: &str, headers: &[(String, String)]) -> Result<u16, String> {
    let url = format!("http://{}:{port}{path}", bracketed(host));
    let mut stream = TcpStream::connect((host, port)).await.map_err(|e| format!("Get \"{url}\": {e}"))?;
    stream.write_all(request(host, port, path, headers).as_bytes()).await.map_err(|e| format!("Get \"{url}\": {e}"))?;
    let line = read_status_line(&mut stream).await.map_err(|e| format!("Get \"{url}\": {e}"))?;
    parse_status(&line).ok_or_else(|| format!("Get \"{url}\": malformed HTTP status line {line:?}"))
}

fn request(host: &str, port: u16, path: &str, headers: &[(String, String)]) -> String {
    let given = |name: &str| headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    let mut request = format!("GET {path} HTTP/1.1\r\n");
    // The probe's own headers replace these defaults, as in Kubernetes.
    let defaults = [
        ("Host", format!("{}:{port}", bracketed(host))),
        ("User-Agent", concat!("kube-probe/rk-", env!("CARGO_PKG_VERSION")).to_string()),
        ("Accept", "*/*".to_string()),
    ];
    for (name, value) in defaults.iter().filter(|(name, _)| !given(name)) {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("Connection: close\r\n\r\n");
    request
}

async fn read_status_line(stream: &mut TcpStream) -> Result<String, String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 512];
    loop {
        if let Some(end) = buf.windows(2).position(|w| w == b"\r\n") {
            return Ok(String::from_utf8_lossy(&buf[..end]).into_owned());
        }
        if buf.len() > MAX_STATUS_LINE {
            return Err(format!("no status line in the first {MAX_STATUS_LINE} bytes"));
        }
        let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed before a response".to_string());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// `HTTP/1.1 204 No Content` → 204.
fn parse_status(line: &str) -> Option<u16> {
    let mut parts = line.split(' ');
    let version = parts.next()?;
    let code = parts.next()?;
    (version.starts_with("HTTP/") && code.len() == 3).then(|| code.parse().ok()).flatten()
}

fn bracketed(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        assert_eq!(parse_status("HTTP/1.1 200 OK"), Some(200));
        assert_eq!(parse_status("HTTP/1.0 503 Service Unavailable"), Some(503));
        assert_eq!(parse_status("HTTP/1.1 204"), Some(204));
        assert_eq!(parse_status("SSH-2.0-OpenSSH"), None);
        assert_eq!(parse_status("HTTP/1.1 20x OK"), None);
        assert_eq!(parse_status(""), None);
    }

    #[test]
    fn probe_headers_replace_the_defaults() {
        let headers = vec![("host".to_string(), "example.test".to_string()), ("X-A".to_string(), "1".to_string())];
        let text = request("10.0.0.1", 8080, "/healthz", &headers);
        assert!(text.starts_with("GET /healthz HTTP/1.1\r\n"), "{text}");
        assert!(!text.contains("Host: 10.0.0.1"), "{text}");
        assert!(text.contains("host: example.test\r\n") && text.contains("X-A: 1\r\n"), "{text}");
        assert!(text.contains("User-Agent: kube-probe/") && text.ends_with("Connection: close\r\n\r\n"), "{text}");
        assert!(request("::1", 80, "/", &[]).contains("Host: [::1]:80\r\n"));
    }
}
