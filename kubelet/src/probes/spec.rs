//! A container's probe as the worker runs it: Kubernetes' defaults applied
//! to unset fields, and the target (host, named port) resolved once.

use super::ProbeError;
use rk_proto::v1::{Container, Probe};
use rk_proto::IntOrString;
use std::time::Duration;

/// What a probe does, with its target resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Exec { command: Vec<String> },
    Http { host: String, port: u16, path: String, headers: Vec<(String, String)> },
    Tcp { host: String, port: u16 },
}

#[derive(Debug, Clone)]
pub struct ProbeSpec {
    /// `Err` when the probe cannot be run as written; every attempt then
    /// fails with this message, as Kubernetes reports an errored probe.
    pub action: Result<Action, ProbeError>,
    pub initial_delay: Duration,
    pub timeout: Duration,
    pub period: Duration,
    pub success_threshold: u32,
    pub failure_threshold: u32,
}

impl ProbeSpec {
    /// `pod_ip` is where httpGet and tcpSocket go when the probe names no host.
    pub fn new(probe: &Probe, container: &Container, pod_ip: &str) -> ProbeSpec {
        ProbeSpec {
            action: action(probe, container, pod_ip),
            initial_delay: Duration::from_secs(probe.initial_delay_seconds.max(0) as u64),
            timeout: seconds_or(probe.timeout_seconds, 1),
            period: seconds_or(probe.period_seconds, 10),
            success_threshold: count_or(probe.success_threshold, 1),
            failure_threshold: count_or(probe.failure_threshold, 3),
        }
    }
}

fn seconds_or(value: i32, default: u64) -> Duration {
    Duration::from_secs(if value > 0 { value as u64 } else { default })
}

fn count_or(value: i32, default: u32) -> u32 {
    if value > 0 {
        value as u32
    } else {
        default
    }
}

fn action(probe: &Probe, container: &Container, pod_ip: &str) -> Result<Action, ProbeError> {
    let host = |given: &str| if given.is_empty() { pod_ip.to_string() } else { given.to_string() };
    if let Some(exec) = &probe.exec {
        if exec.command.is_empty() {
            return Err(ProbeError::EmptyCommand);
        }
        return Ok(Action::Exec { command: exec.command.clone() });
    }
    if let Some(http) = &probe.http_get {
        if !matches!(http.scheme.as_str(), "" | "HTTP") {
            return Err(ProbeError::Scheme(http.scheme.clone()));
        }
        let headers = http
            .http_headers
            .iter()
            .map(|h| header(&h.name, &h.value).map(|()| (h.name.clone(), h.value.clone())))
            .collect::<Result<_, _>>()?;
        let path = if http.path.starts_with('/') { http.path.clone() } else { format!("/{}", http.path) };
        let port = port(http.port.as_ref(), container)?;
        return Ok(Action::Http { host: host(&http.host), port, path, headers });
    }
    if let Some(tcp) = &probe.tcp_socket {
        return Ok(Action::Tcp { host: host(&tcp.host), port: port(tcp.port.as_ref(), container)? });
    }
    Err(ProbeError::NoHandler)
}

/// Header fields go into the request as written, so nothing may end a line early.
fn header(name: &str, value: &str) -> Result<(), ProbeError> {
    let token = !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':');
    if token && !value.contains(['\r', '\n']) {
        Ok(())
    } else {
        Err(ProbeError::Header(name.to_string()))
    }
}

/// A port number, or the name of one of the container's ports.
fn port(port: Option<&IntOrString>, container: &Container) -> Result<u16, ProbeError> {
    let default = IntOrString::default();
    let port = port.unwrap_or(&default);
    let number = match port.as_name() {
        Some(name) => container.ports.iter().find(|p| p.name == name).map(|p| p.container_port).ok_or_else(|| {
            let known: Vec<&str> = container.ports.iter().map(|p| p.name.as_str()).filter(|n| !n.is_empty()).collect();
            let known = if known.is_empty() { "none".to_string() } else { known.join(", ") };
            ProbeError::PortName { name: name.to_string(), known }
        })?,
        None => port.int_val,
    };
    u16::try_from(number).ok().filter(|n| *n > 0).ok_or(ProbeError::PortNumber(number))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::v1::{ContainerPort, ExecAction, HttpGetAction, HttpHeader, TcpSocketAction};

    fn container() -> Container {
        Container {
            name: "web".into(),
            ports: vec![ContainerPort { name: "http".into(), container_port: 8080, ..Default::default() }],
            ..Default::default()
        }
    }

    fn http(port: IntOrString) -> Probe {
        Probe { http_get: Some(HttpGetAction { port: Some(port), ..Default::default() }), ..Default::default() }
    }

    #[test]
    fn unset_fields_take_kubernetes_defaults() {
        let spec = ProbeSpec::new(&http(IntOrString::int(80)), &container(), "10.1.0.2");
        assert_eq!(spec.initial_delay, Duration::ZERO);
        assert_eq!(spec.timeout, Duration::from_secs(1));
        assert_eq!(spec.period, Duration::from_secs(10));
        assert_eq!((spec.success_threshold, spec.failure_threshold), (1, 3));
        let set = Probe {
            initial_delay_seconds: 5,
            timeout_seconds: 2,
            period_seconds: 3,
            success_threshold: 2,
            failure_threshold: 1,
            ..http(IntOrString::int(80))
        };
        let spec = ProbeSpec::new(&set, &container(), "10.1.0.2");
        assert_eq!(
            (spec.initial_delay, spec.timeout, spec.period, spec.success_threshold, spec.failure_threshold),
            (Duration::from_secs(5), Duration::from_secs(2), Duration::from_secs(3), 2, 1)
        );
    }

    #[test]
    fn http_targets_the_pod_ip_and_resolves_named_ports() {
        let mut probe = http(IntOrString::string("http"));
        probe.http_get.as_mut().unwrap().path = "healthz".into();
        probe.http_get.as_mut().unwrap().http_headers = vec![HttpHeader { name: "X-Probe".into(), value: "1".into() }];
        let spec = ProbeSpec::new(&probe, &container(), "10.1.0.2");
        assert_eq!(
            spec.action.unwrap(),
            Action::Http {
                host: "10.1.0.2".into(),
                port: 8080,
                path: "/healthz".into(),
                headers: vec![("X-Probe".into(), "1".into())]
            }
        );
        let tcp = Probe {
            tcp_socket: Some(TcpSocketAction { port: Some(IntOrString::int(6379)), host: "127.0.0.1".into() }),
            ..Default::default()
        };
        assert_eq!(
            ProbeSpec::new(&tcp, &container(), "10.1.0.2").action.unwrap(),
            Action::Tcp { host: "127.0.0.1".into(), port: 6379 }
        );
    }

    #[test]
    fn probes_that_cannot_run_say_why() {
        let message = |probe: Probe| ProbeSpec::new(&probe, &container(), "10.1.0.2").action.unwrap_err().to_string();
        let unknown = message(http(IntOrString::string("metrics")));
        assert!(unknown.contains("\"metrics\"") && unknown.contains("http"), "{unknown}");
        assert!(message(http(IntOrString::int(70000))).contains("70000"));
        assert!(message(http(IntOrString::int(0))).contains("1-65535"));
        let mut https = http(IntOrString::int(443));
        https.http_get.as_mut().unwrap().scheme = "HTTPS".into();
        assert!(message(https).contains("HTTPS"));
        let mut bad_header = http(IntOrString::int(80));
        bad_header.http_get.as_mut().unwrap().http_headers =
            vec![HttpHeader { name: "X".into(), value: "a\r\nHost: evil".into() }];
        assert!(message(bad_header).contains("\"X\""));
        let empty_exec = Probe { exec: Some(ExecAction { command: vec![] }), ..Default::default() };
        assert!(message(empty_exec).contains("command"));
        assert!(message(Probe::default()).contains("exec, httpGet or tcpSocket"));
    }
}
