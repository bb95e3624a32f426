//! The `Containers:` and `Volumes:` sections, shared by pods and pod templates.

use super::writer::{timestamp, Writer};
use crate::print::format::{or_none, protocol};
use rk_proto::v1::{Container, ContainerState, ContainerStatus, Pod, Probe, Volume};
use rk_proto::Resource;

/// Where a section sits: a pod's at the top level, a template's indented by two spaces
/// (kubectl then also indents container and volume names by one more space).
#[derive(Clone, Copy)]
pub(super) enum Indent {
    Pod,
    Template,
}

impl Indent {
    fn space(self) -> &'static str {
        match self {
            Indent::Pod => "",
            Indent::Template => "  ",
        }
    }

    fn name_indent(self) -> &'static str {
        match self {
            Indent::Pod => "",
            Indent::Template => " ",
        }
    }
}

/// `Containers:` with each container's image, ports, command, state, resources, probes,
/// environment and mounts. `pod` (absent for templates) supplies statuses and the values of
/// `fieldRef` environment variables.
pub(super) fn write_containers(w: &mut Writer, indent: Indent, containers: &[Container], pod: Option<&Pod>) {
    let space = indent.space();
    let none = if containers.is_empty() { " <none>" } else { "" };
    w.line(0, format_args!("{space}Containers:{none}"));
    let statuses = pod.and_then(|p| p.status.as_ref()).map(|s| s.container_statuses.as_slice()).unwrap_or_default();
    for container in containers {
        let status = statuses.iter().find(|s| s.name == container.name);
        w.line(1, format_args!("{}{}:", indent.name_indent(), container.name));
        if let Some(status) = status {
            w.line(2, format_args!("Container ID:\t{}", status.container_id));
        }
        w.line(2, format_args!("Image:\t{}", container.image));
        if let Some(status) = status {
            w.line(2, format_args!("Image ID:\t{}", status.image_id));
        }
        write_ports(w, container);
        write_command(w, "Command", &container.command);
        write_command(w, "Args", &container.args);
        if let Some(status) = status {
            write_state(w, status);
        }
        write_resources(w, container);
        if let Some(probe) = &container.liveness_probe {
            w.line(2, format_args!("Liveness:\t{}", describe_probe(probe)));
        }
        if let Some(probe) = &container.readiness_probe {
            w.line(2, format_args!("Readiness:\t{}", describe_probe(probe)));
        }
        write_env(w, container, pod);
        write_mounts(w, container);
    }
}

fn write_ports(w: &mut Writer, container: &Container) {
    let join = |port: fn(&rk_proto::v1::ContainerPort) -> i32| {
        let ports: Vec<String> =
            container.ports.iter().map(|p| format!("{}/{}", port(p), protocol(&p.protocol))).collect();
        ports.join(",")
    };
    for (singular, plural, ports) in
        [("Port", "Ports", join(|p| p.container_port)), ("Host Port", "Host Ports", join(|p| p.host_port))]
    {
        let title = if ports.contains(',') { plural } else { singular };
        w.line(2, format_args!("{title}:\t{}", or_none(&ports)));
    }
}

fn write_command(w: &mut Writer, title: &str, words: &[String]) {
    if words.is_empty() {
        return;
    }
    w.line(2, format_args!("{title}:"));
    for line in words.iter().flat_map(|word| word.split('\n')) {
        w.line(3, format_args!("{line}"));
    }
}

fn write_state(w: &mut Writer, status: &ContainerStatus) {
    write_one_state(w, "State", status.state.as_ref());
    if let Some(last) = status.last_state.as_ref().filter(|s| s.terminated.is_some()) {
        write_one_state(w, "Last State", Some(last));
    }
    w.line(2, format_args!("Ready:\t{}", if status.ready { "True" } else { "False" }));
    w.line(2, format_args!("Restart Count:\t{}", status.restart_count));
}

fn write_one_state(w: &mut Writer, title: &str, state: Option<&ContainerState>) {
    let state = state.cloned().unwrap_or_default();
    if let Some(running) = &state.running {
        w.line(2, format_args!("{title}:\tRunning"));
        w.line(3, format_args!("Started:\t{}", timestamp(&running.started_at)));
    } else if let Some(terminated) = &state.terminated {
        w.line(2, format_args!("{title}:\tTerminated"));
        w.line_if_set(3, "Reason", &terminated.reason);
        w.line_if_set(3, "Message", &terminated.message);
        w.line(3, format_args!("Exit Code:\t{}", terminated.exit_code));
        if terminated.signal > 0 {
            w.line(3, format_args!("Signal:\t{}", terminated.signal));
        }
        w.line(3, format_args!("Started:\t{}", timestamp(&terminated.started_at)));
        w.line(3, format_args!("Finished:\t{}", timestamp(&terminated.finished_at)));
    } else {
        w.line(2, format_args!("{title}:\tWaiting"));
        if let Some(reason) = state.waiting.as_ref().map(|w| &w.reason).filter(|r| !r.is_empty()) {
            w.line(3, format_args!("Reason:\t{reason}"));
        }
    }
}

fn write_resources(w: &mut Writer, container: &Container) {
    let resources = container.resources.clone().unwrap_or_default();
    for (title, list) in [("Limits", &resources.limits), ("Requests", &resources.requests)] {
        if list.is_empty() {
            continue;
        }
        w.line(2, format_args!("{title}:"));
        for (name, quantity) in list {
            w.line(3, format_args!("{name}:\t{}", rk_proto::quantity::canonical(quantity)));
        }
    }
}

/// kubectl's `DescribeProbe`: `http-get http://:8080/healthz delay=0s timeout=1s period=10s #success=1 #failure=3`.
fn describe_probe(probe: &Probe) -> String {
    let attrs = format!(
        "delay={}s timeout={}s period={}s #success={} #failure={}",
        probe.initial_delay_seconds,
        probe.timeout_seconds,
        probe.period_seconds,
        probe.success_threshold,
        probe.failure_threshold
    );
    if let Some(exec) = &probe.exec {
        return format!("exec [{}] {attrs}", exec.command.join(" "));
    }
    if let Some(http) = &probe.http_get {
        let scheme = if http.scheme.is_empty() { "http".to_string() } else { http.scheme.to_lowercase() };
        let port = http.port.as_ref().map(|p| p.to_string()).unwrap_or_default();
        let host = if port.is_empty() { http.host.clone() } else { format!("{}:{port}", http.host) };
        let slash = if http.path.is_empty() || http.path.starts_with('/') { "" } else { "/" };
        return format!("http-get {scheme}://{host}{slash}{} {attrs}", http.path);
    }
    if let Some(tcp) = &probe.tcp_socket {
        let port = tcp.port.as_ref().map(|p| p.to_string()).unwrap_or_default();
        return format!("tcp-socket {}:{port} {attrs}", tcp.host);
    }
    format!("unknown {attrs}")
}

fn write_env(w: &mut Writer, container: &Container, pod: Option<&Pod>) {
    let none = if container.env.is_empty() { "\t<none>" } else { "" };
    w.line(2, format_args!("Environment:{none}"));
    for env in &container.env {
        let field_ref = env.value_from.as_ref().and_then(|v| v.field_ref.as_ref());
        let Some(field_ref) = field_ref else {
            for (i, line) in env.value.split('\n').enumerate() {
                let name = if i == 0 { format!("{}:", env.name) } else { String::new() };
                w.line(3, format_args!("{name}\t{line}"));
            }
            continue;
        };
        let value = pod.map(|p| pod_field(p, &field_ref.field_path)).unwrap_or_default();
        let api_version = &field_ref.api_version;
        w.line(3, format_args!("{}:\t{value} ({api_version}:{})", env.name, field_ref.field_path));
    }
}

/// The value the kubelet gives a `fieldRef` environment variable.
fn pod_field(pod: &Pod, path: &str) -> String {
    let meta = pod.metadata();
    let status = pod.status.clone().unwrap_or_default();
    let keyed = |prefix: &str, map: &std::collections::BTreeMap<String, String>| {
        let key = path.strip_prefix(prefix)?.strip_suffix("']")?;
        Some(map.get(key).cloned().unwrap_or_default())
    };
    match path {
        "metadata.name" => meta.name.clone(),
        "metadata.namespace" => meta.namespace.clone(),
        "metadata.uid" => meta.uid.clone(),
        "spec.nodeName" => pod.spec.as_ref().map(|s| s.node_name.clone()).unwrap_or_default(),
        "status.hostIP" => status.host_ip,
        "status.podIP" | "status.podIPs" => status.pod_ip,
        _ => keyed("metadata.labels['", &meta.labels)
            .or_else(|| keyed("metadata.annotations['", &meta.annotations))
            .unwrap_or_default(),
    }
}

fn write_mounts(w: &mut Writer, container: &Container) {
    let none = if container.volume_mounts.is_empty() { "\t<none>" } else { "" };
    w.line(2, format_args!("Mounts:{none}"));
    let mut mounts: Vec<_> = container.volume_mounts.iter().collect();
    mounts.sort_by(|a, b| a.mount_path.cmp(&b.mount_path));
    for mount in mounts {
        let mut flags = vec![if mount.read_only { "ro".to_string() } else { "rw".to_string() }];
        if !mount.sub_path.is_empty() {
            flags.push(format!("path={:?}", mount.sub_path));
        }
        w.line(3, format_args!("{} from {} ({})", mount.mount_path, mount.name, flags.join(",")));
    }
}

/// `Volumes:` with each volume's source.
pub(super) fn write_volumes(w: &mut Writer, indent: Indent, volumes: &[Volume]) {
    let space = indent.space();
    if volumes.is_empty() {
        return w.line(0, format_args!("{space}Volumes:\t<none>"));
    }
    w.line(0, format_args!("{space}Volumes:"));
    for volume in volumes {
        w.line(1, format_args!("{}{}:", indent.name_indent(), volume.name));
        if let Some(host_path) = &volume.host_path {
            w.line(2, format_args!("Type:\tHostPath (bare host directory volume)"));
            w.line(2, format_args!("Path:\t{}", host_path.path));
            w.line(2, format_args!("HostPathType:\t{}", host_path.r#type));
        } else if let Some(empty_dir) = &volume.empty_dir {
            w.line(2, format_args!("Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)"));
            w.line(2, format_args!("Medium:\t{}", empty_dir.medium));
            let limit = if empty_dir.size_limit.is_empty() { "<unset>" } else { &empty_dir.size_limit };
            w.line(2, format_args!("SizeLimit:\t{limit}"));
        } else {
            w.line(1, format_args!("<unknown>"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::v1::{ExecAction, HttpGetAction, TcpSocketAction};
    use rk_proto::IntOrString;

    fn probe() -> Probe {
        Probe {
            timeout_seconds: 1,
            period_seconds: 10,
            success_threshold: 1,
            failure_threshold: 3,
            ..Default::default()
        }
    }

    #[test]
    fn probes() {
        let attrs = "delay=0s timeout=1s period=10s #success=1 #failure=3";
        let http = HttpGetAction { path: "/healthz".into(), port: Some(IntOrString::int(8080)), ..Default::default() };
        let p = Probe { http_get: Some(http), ..probe() };
        assert_eq!(describe_probe(&p), format!("http-get http://:8080/healthz {attrs}"));
        let exec = ExecAction { command: vec!["cat".into(), "/tmp/ok".into()] };
        assert_eq!(describe_probe(&Probe { exec: Some(exec), ..probe() }), format!("exec [cat /tmp/ok] {attrs}"));
        let tcp = TcpSocketAction { port: Some(IntOrString::string("http")), ..Default::default() };
        assert_eq!(describe_probe(&Probe { tcp_socket: Some(tcp), ..probe() }), format!("tcp-socket :http {attrs}"));
    }
}
