//! The guestbook frontend: keeps entries in a Redis list and shows them.
//!
//! - `GET /`: an HTML page with the entries, a form to add one, and the pod that answered
//! - `GET /entries`: the entries as plain text, one a line
//! - `POST /entries` (a form field `entry`, or the body as text) or `GET /add?entry=...`: adds one
//! - `POST /`: the page's form; adds and sends the browser back to `/`
//! - `GET /healthz`: `ok`, without asking Redis
//!
//! Redis is at `$REDIS_ADDRESS` (`127.0.0.1:6379` for a Redis container in the
//! same pod) or else at the Service `redis-master`'s `REDIS_MASTER_SERVICE_HOST`
//! and `REDIS_MASTER_SERVICE_PORT`. Without them, or when Redis does not answer,
//! requests that need it get a 503 saying why. Listens on `$PORT` (default 8080).

use std::net::SocketAddr;
use std::process::ExitCode;

use rk_images::http::{Request, Response};
use rk_images::redis::Redis;
use rk_images::{address, form, html, server};

const PROGRAM: &str = "rk-guestbook";
/// The Redis list holding the entries, oldest first.
const LIST_KEY: &[u8] = b"guestbook";
/// Bounds one entry.
const MAX_ENTRY_BYTES: usize = 1000;

fn main() -> ExitCode {
    let hostname = match rk_images::hostname() {
        Ok(name) => name,
        Err(e) => return server::fail(PROGRAM, format!("reading the host name: {e}")),
    };
    let redis = redis_address(&|name| std::env::var(name).ok()).map(Redis::new);
    match &redis {
        Ok(redis) => println!("{PROGRAM} on {hostname}, Redis at {}", redis.address()),
        Err(e) => println!("{PROGRAM} on {hostname}, without Redis: {e}"),
    }
    server::serve(PROGRAM, move |request: &Request| handle(request, &hostname, &redis))
}

/// `$REDIS_ADDRESS`, else the `redis-master` Service's variables.
fn redis_address(env: &dyn Fn(&str) -> Option<String>) -> Result<SocketAddr, String> {
    match env("REDIS_ADDRESS") {
        Some(text) => address::parse_address("REDIS_ADDRESS", &text),
        None => address::service_address(env, "REDIS_MASTER"),
    }
}

fn handle(request: &Request, hostname: &str, redis: &Result<Redis, String>) -> Response {
    let (method, path) = (request.method.as_str(), request.path());
    if path == "/healthz" {
        return Response::text(200, "ok\n");
    }
    let redis = match (path, redis) {
        ("/" | "/entries" | "/add", Err(reason)) => return unavailable(reason),
        ("/" | "/entries" | "/add", Ok(redis)) => redis,
        _ => return Response::not_found(path),
    };
    match (method, path) {
        ("GET", "/") => match entries(redis) {
            Ok(entries) => Response::html(200, page(hostname, &entries)),
            Err(reason) => unavailable(&reason),
        },
        ("GET", "/entries") => match entries(redis) {
            Ok(entries) => Response::text(200, entries.iter().map(|entry| format!("{entry}\n")).collect::<String>()),
            Err(reason) => unavailable(&reason),
        },
        ("POST", "/") => match entry_of(request).and_then(|entry| add(redis, &entry)) {
            Ok(_) => Response::see_other("/"),
            Err(response) => response,
        },
        ("POST", "/entries") | ("GET", "/add") => match entry_of(request).and_then(|entry| add(redis, &entry)) {
            Ok(count) => Response::text(201, format!("pod {hostname} added entry {count}\n")),
            Err(response) => response,
        },
        (_, "/add") => Response::method_not_allowed(method, path, "GET"),
        _ => Response::method_not_allowed(method, path, "GET, POST"),
    }
}

fn unavailable(reason: &str) -> Response {
    Response::text(503, format!("the guestbook cannot reach Redis: {reason}\n"))
}

fn entries(redis: &Redis) -> Result<Vec<String>, String> {
    redis.strings(&[b"LRANGE", LIST_KEY, b"0", b"-1"]).map_err(|e| e.to_string())
}

/// Appends `entry`; returns how many entries there are now.
fn add(redis: &Redis, entry: &str) -> Result<i64, Response> {
    redis.integer(&[b"RPUSH", LIST_KEY, entry.as_bytes()]).map_err(|e| unavailable(&e.to_string()))
}

/// The entry a request adds: the `entry` field of its query (`GET /add`) or
/// form body, or else its whole body as text; one non-empty line, bounded.
fn entry_of(request: &Request) -> Result<String, Response> {
    let body = String::from_utf8_lossy(&request.body);
    let entry = if request.method == "GET" {
        form::field(request.query(), "entry")
    } else if request.is_form() {
        form::field(&body, "entry")
    } else {
        Some(body.into_owned())
    };
    let Some(entry) = entry else {
        return Err(Response::text(400, "say what to add: a field `entry` (?entry=... or entry=... in a form)\n"));
    };
    let entry = entry.trim();
    if entry.is_empty() {
        return Err(Response::text(400, "the entry is empty\n"));
    }
    if entry.len() > MAX_ENTRY_BYTES {
        return Err(Response::text(400, format!("the entry is {} bytes; at most {MAX_ENTRY_BYTES}\n", entry.len())));
    }
    if entry.chars().any(char::is_control) {
        return Err(Response::text(400, "an entry is one line of text, without control characters\n"));
    }
    Ok(entry.to_string())
}

/// The guestbook page: the entries, escaped, oldest first, and a form.
fn page(hostname: &str, entries: &[String]) -> String {
    let items: String = entries.iter().map(|entry| format!("      <li>{}</li>\n", html::escape(entry))).collect();
    let list = if entries.is_empty() {
        "    <p>No entries yet.</p>\n".to_string()
    } else {
        format!("    <ul>\n{items}    </ul>\n")
    };
    format!(
        "<!DOCTYPE html>\n<html>\n  <head>\n    <meta charset=\"utf-8\">\n    <title>Guestbook</title>\n  </head>\n  <body>\n    \
         <h1>Guestbook</h1>\n{list}    <form method=\"post\" action=\"/\">\n      \
         <input name=\"entry\" maxlength=\"{MAX_ENTRY_BYTES}\" autofocus>\n      <button>Sign</button>\n    </form>\n    \
         <p>Served by pod {}.</p>\n  </body>\n</html>\n",
        html::escape(hostname)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn request(method: &str, target: &str, content_type: Option<&str>, body: &str) -> Request {
        Request {
            method: method.into(),
            target: target.into(),
            keep_alive: false,
            content_type: content_type.map(String::from),
            body: body.into(),
        }
    }

    fn text(response: &Response) -> String {
        String::from_utf8(response.body.clone()).unwrap()
    }

    #[test]
    fn entries_come_from_the_query_a_form_or_a_text_body() {
        let form = Some("application/x-www-form-urlencoded");
        assert_eq!(entry_of(&request("GET", "/add?entry=Hi+there%21", None, "")).unwrap(), "Hi there!");
        assert_eq!(entry_of(&request("POST", "/entries", form, "entry=caf%C3%A9")).unwrap(), "café");
        assert_eq!(entry_of(&request("POST", "/entries", Some("text/plain"), " plain \n")).unwrap(), "plain");
        assert_eq!(entry_of(&request("POST", "/entries", None, "a+b")).unwrap(), "a+b", "no form, no decoding");
    }

    #[test]
    fn empty_long_multi_line_or_missing_entries_are_refused() {
        let refused = |request: Request| entry_of(&request).unwrap_err();
        assert_eq!(refused(request("GET", "/add", None, "")).status, 400);
        assert!(text(&refused(request("GET", "/add?entry=+", None, ""))).contains("empty"));
        assert!(text(&refused(request("GET", "/add?entry=a%0Ab", None, ""))).contains("one line"));
        let long = format!("/add?entry={}", "x".repeat(MAX_ENTRY_BYTES + 1));
        assert!(text(&refused(request("GET", &long, None, ""))).contains("at most"));
    }

    #[test]
    fn the_page_escapes_entries_and_names_the_pod() {
        let page = page("frontend-x1", &["<b>bold</b> & \"quoted\"".to_string(), "second".to_string()]);
        assert!(page.contains("<li>&lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;</li>"), "{page}");
        assert!(page.find("bold").unwrap() < page.find("second").unwrap(), "oldest first");
        assert!(page.contains("Served by pod frontend-x1."));
        assert!(page.contains("<form method=\"post\" action=\"/\">"));
        assert!(super::page("p", &[]).contains("No entries yet."));
    }

    #[test]
    fn redis_is_found_through_an_address_or_the_service_variables() {
        let lookup = |vars: &'static [(&'static str, &'static str)]| {
            let vars: HashMap<&str, &str> = vars.iter().copied().collect();
            move |name: &str| vars.get(name).map(|value| value.to_string())
        };
        let both = lookup(&[
            ("REDIS_ADDRESS", "127.0.0.1:6379"),
            ("REDIS_MASTER_SERVICE_HOST", "10.0.0.9"),
            ("REDIS_MASTER_SERVICE_PORT", "6379"),
        ]);
        assert_eq!(redis_address(&both).unwrap(), "127.0.0.1:6379".parse().unwrap());
        let service = lookup(&[("REDIS_MASTER_SERVICE_HOST", "10.0.0.9"), ("REDIS_MASTER_SERVICE_PORT", "6379")]);
        assert_eq!(redis_address(&service).unwrap(), "10.0.0.9:6379".parse().unwrap());
        assert!(redis_address(&lookup(&[])).unwrap_err().contains("REDIS_MASTER_SERVICE_HOST is not set"));
    }

    #[test]
    fn without_redis_the_answer_is_503_with_the_reason_but_health_is_ok() {
        let missing = Err("REDIS_MASTER_SERVICE_HOST is not set".to_string());
        let response = handle(&request("GET", "/entries", None, ""), "p", &missing);
        assert_eq!(response.status, 503);
        assert!(text(&response).contains("cannot reach Redis: REDIS_MASTER_SERVICE_HOST is not set"));
        assert_eq!(handle(&request("GET", "/healthz", None, ""), "p", &missing).status, 200);
        assert_eq!(handle(&request("GET", "/nothing", None, ""), "p", &missing).status, 404);
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let response = handle(&request("GET", "/add?entry=x", None, ""), "p", &Ok(Redis::new(closed)));
        assert_eq!(response.status, 503);
        assert!(text(&response).contains(&format!("cannot connect to Redis at {closed}")), "{}", text(&response));
    }

    #[test]
    fn wrong_methods_are_405_with_what_is_allowed() {
        let redis = Ok(Redis::new("127.0.0.1:9".parse().unwrap()));
        let response = handle(&request("DELETE", "/entries", None, ""), "p", &redis);
        assert_eq!(response.status, 405);
        assert_eq!(response.headers, [("Allow", "GET, POST".to_string())]);
        assert_eq!(handle(&request("POST", "/add", None, "x"), "p", &redis).status, 405);
    }
}
