//! Defaults and checks for a container's liveness and readiness probes.

use super::common::{check_enum, check_non_negative, check_port_or_name, Errors};
use crate::registry::field_error::FieldError;
use rk_proto::v1::Probe;

pub(crate) fn default_probe(probe: &mut Probe) {
    for (value, default) in [
        (&mut probe.timeout_seconds, 1),
        (&mut probe.period_seconds, 10),
        (&mut probe.success_threshold, 1),
        (&mut probe.failure_threshold, 3),
    ] {
        if *value == 0 {
            *value = default;
        }
    }
    if let Some(http) = &mut probe.http_get {
        if http.path.is_empty() {
            http.path = "/".into();
        }
        if http.scheme.is_empty() {
            http.scheme = "HTTP".into();
        }
    }
}

pub(crate) fn validate_probe(errs: &mut Errors, path: &str, probe: &Probe) {
    let handlers = [
        ("exec", probe.exec.is_some()),
        ("httpGet", probe.http_get.is_some()),
        ("tcpSocket", probe.tcp_socket.is_some()),
    ];
    let mut given = handlers.iter().filter(|(_, set)| *set).map(|(name, _)| name);
    if given.next().is_none() {
        errs.push(FieldError::new(path, "Required value: must specify a handler type (exec, httpGet or tcpSocket)"));
    }
    for extra in given {
        errs.push(FieldError::new(format!("{path}.{extra}"), "Forbidden: may not specify more than 1 handler type"));
    }
    if probe.exec.as_ref().is_some_and(|exec| exec.command.is_empty()) {
        errs.push(FieldError::required(format!("{path}.exec.command")));
    }
    if let Some(http) = &probe.http_get {
        if http.path.is_empty() {
            errs.push(FieldError::required(format!("{path}.httpGet.path")));
        }
        check_port_or_name(errs, &format!("{path}.httpGet.port"), http.port.as_ref());
        check_enum(errs, &format!("{path}.httpGet.scheme"), &http.scheme, &["HTTP", "HTTPS"]);
    }
    if let Some(tcp) = &probe.tcp_socket {
        check_port_or_name(errs, &format!("{path}.tcpSocket.port"), tcp.port.as_ref());
    }
    for (name, value) in [
        ("initialDelaySeconds", probe.initial_delay_seconds),
        ("timeoutSeconds", probe.timeout_seconds),
        ("periodSeconds", probe.period_seconds),
        ("successThreshold", probe.success_threshold),
        ("failureThreshold", probe.failure_threshold),
    ] {
        check_non_negative(errs, &format!("{path}.{name}"), value.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::validation::testing::{error_at, fields, from_json};
    use serde_json::json;

    fn check(probe: serde_json::Value) -> Errors {
        let mut errs = Errors::new();
        validate_probe(&mut errs, "p", &from_json(probe));
        errs
    }

    #[test]
    fn defaults_fill_timings_and_http_fields() {
        let mut probe: Probe = from_json(json!({"httpGet": {"port": 8080}, "periodSeconds": 5}));
        default_probe(&mut probe);
        assert_eq!(
            (probe.timeout_seconds, probe.period_seconds, probe.success_threshold, probe.failure_threshold),
            (1, 5, 1, 3)
        );
        let http = probe.http_get.unwrap();
        assert_eq!((http.path.as_str(), http.scheme.as_str()), ("/", "HTTP"));
    }

    #[test]
    fn valid_probes_pass() {
        assert_eq!(check(json!({"exec": {"command": ["true"]}})), []);
        assert_eq!(check(json!({"httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTPS"}})), []);
        assert_eq!(check(json!({"tcpSocket": {"port": 5432}, "initialDelaySeconds": 3})), []);
    }

    #[test]
    fn handler_count_is_checked() {
        let errs = check(json!({}));
        assert!(error_at(&errs, "p").message.contains("must specify a handler type"));
        let errs = check(json!({"exec": {"command": ["true"]}, "tcpSocket": {"port": 80}}));
        assert!(error_at(&errs, "p.tcpSocket").message.contains("more than 1 handler type"));
    }

    #[test]
    fn every_handler_and_timing_problem_is_reported() {
        let errs = check(json!({"exec": {}}));
        assert_eq!(fields(&errs), ["p.exec.command"]);
        let errs = check(json!({"httpGet": {"port": 0, "scheme": "FTP"}, "periodSeconds": -1}));
        assert_eq!(fields(&errs), ["p.httpGet.path", "p.httpGet.port", "p.httpGet.scheme", "p.periodSeconds"]);
        assert!(errs[2].message.contains("supported values: \"HTTP\", \"HTTPS\""));
        let errs = check(json!({"tcpSocket": {"port": "Not_A_Name"}}));
        assert!(error_at(&errs, "p.tcpSocket.port").message.contains("alpha-numeric"));
    }
}
