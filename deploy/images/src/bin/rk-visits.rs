//! The visit counter: a web server that counts the visits each pod answers
//! in a database shared by every replica (Redis: a hash of pod name to count).
//!
//! - `GET /`: counts the visit, answers `pod <hostname>: visit <n>`
//! - `GET /counts`: every pod's count, `<pod>: <n>` a line, by pod name
//! - `GET /healthz`: `ok`, without asking the database
//!
//! The database is the Service `db-service`, at `DB_SERVICE_SERVICE_HOST` and
//! `DB_SERVICE_SERVICE_PORT`; without them, or when it does not answer,
//! requests that need it get a 503 saying why. Listens on `$PORT` (default 8080).

use std::process::ExitCode;

use rk_images::http::{Request, Response};
use rk_images::redis::Redis;
use rk_images::{address, server};

const PROGRAM: &str = "rk-visits";
/// The Redis hash of pod name to visit count.
const COUNTS_KEY: &[u8] = b"visits";

fn main() -> ExitCode {
    let hostname = match rk_images::hostname() {
        Ok(name) => name,
        Err(e) => return server::fail(PROGRAM, format!("reading the host name: {e}")),
    };
    let db = address::service_address(&|name| std::env::var(name).ok(), "DB_SERVICE").map(Redis::new);
    match &db {
        Ok(db) => println!("{PROGRAM} on {hostname}, database at {}", db.address()),
        Err(e) => println!("{PROGRAM} on {hostname}, without a database: {e}"),
    }
    server::serve(PROGRAM, move |request: &Request| handle(request, &hostname, &db))
}

fn handle(request: &Request, hostname: &str, db: &Result<Redis, String>) -> Response {
    let path = request.path();
    let db = match (path, db) {
        ("/healthz", _) => return Response::text(200, "ok\n"),
        ("/" | "/counts", Err(reason)) => return unavailable(reason),
        ("/" | "/counts", Ok(db)) => db,
        _ => return Response::not_found(path),
    };
    if request.method != "GET" {
        return Response::method_not_allowed(&request.method, path, "GET");
    }
    let answer = if path == "/" {
        db.integer(&[b"HINCRBY", COUNTS_KEY, hostname.as_bytes(), b"1"]).map(|n| format!("pod {hostname}: visit {n}\n"))
    } else {
        db.strings(&[b"HGETALL", COUNTS_KEY]).map(|fields| counts(&fields))
    };
    match answer {
        Ok(text) => Response::text(200, text),
        Err(e) => unavailable(&e.to_string()),
    }
}

fn unavailable(reason: &str) -> Response {
    Response::text(503, format!("the visit counter cannot reach its database: {reason}\n"))
}

/// `HGETALL`'s fields and values (`pod, n, pod, n, ...`) as lines sorted by pod.
fn counts(fields: &[String]) -> String {
    let mut pairs: Vec<(&String, &String)> =
        fields.chunks(2).filter_map(|pair| Some((pair.first()?, pair.get(1)?))).collect();
    pairs.sort();
    pairs.into_iter().map(|(pod, n)| format!("{pod}: {n}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str) -> Request {
        Request { method: "GET".into(), target: path.into(), keep_alive: false, content_type: None, body: Vec::new() }
    }

    #[test]
    fn counts_are_listed_by_pod_name() {
        let fields: Vec<String> = ["web-b", "2", "web-a", "5"].map(String::from).into();
        assert_eq!(counts(&fields), "web-a: 5\nweb-b: 2\n");
        assert_eq!(counts(&[]), "");
    }

    #[test]
    fn without_a_database_the_answer_is_503_with_the_reason() {
        let missing = Err("DB_SERVICE_SERVICE_HOST is not set".to_string());
        let response = handle(&get("/"), "web-a", &missing);
        assert_eq!(response.status, 503);
        assert!(String::from_utf8_lossy(&response.body).contains("DB_SERVICE_SERVICE_HOST is not set"));
        assert_eq!(handle(&get("/healthz"), "web-a", &missing).status, 200);
        assert_eq!(handle(&get("/favicon.ico"), "web-a", &missing).status, 404);
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let response = handle(&get("/counts"), "web-a", &Ok(Redis::new(closed)));
        assert_eq!(response.status, 503);
        assert!(String::from_utf8_lossy(&response.body).contains("cannot connect"));
    }

    #[test]
    fn only_get_is_allowed() {
        let mut post = get("/");
        post.method = "POST".into();
        assert_eq!(handle(&post, "web-a", &Ok(Redis::new("127.0.0.1:9".parse().unwrap()))).status, 405);
    }
}
