//! Defaults and checks for one container of a pod spec.

use super::common::{
    check_absolute_path, check_enum, check_ipv4, check_name, check_port, check_port_name, check_quantities,
    check_range, Errors, NameFormat, PROTOCOLS,
};
use super::probe::{default_probe, validate_probe};
use crate::registry::field_error::FieldError;
use rk_proto::quantity;
use rk_proto::v1::{Container, ContainerPort, EnvVar, ResourceRequirements, VolumeMount};
use std::collections::HashSet;

const PULL_POLICIES: &[&str] = &["Always", "IfNotPresent", "Never"];
const RESOURCE_NAMES: &[&str] = &["cpu", "memory", "ephemeral-storage"];
/// The pod fields an environment variable may take its value from (the downward API).
const ENV_FIELD_PATHS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "metadata.labels",
    "metadata.annotations",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.podIP",
];

pub(crate) fn default_container(container: &mut Container) {
    if container.image_pull_policy.is_empty() {
        container.image_pull_policy = default_pull_policy(&container.image).into();
    }
    if container.termination_message_path.is_empty() {
        container.termination_message_path = "/dev/termination-log".into();
    }
    for port in &mut container.ports {
        if port.protocol.is_empty() {
            port.protocol = "TCP".into();
        }
    }
    for probe in [&mut container.liveness_probe, &mut container.readiness_probe].into_iter().flatten() {
        default_probe(probe);
    }
    if let Some(resources) = &mut container.resources {
        quantity::canonicalize_all(&mut resources.limits);
        quantity::canonicalize_all(&mut resources.requests);
    }
}

/// Kubernetes pulls on every start an image with no tag or the tag `latest`,
/// since that name may point at a different image tomorrow; any other tag, or
/// a digest without a tag, is taken as fixed.
fn default_pull_policy(image: &str) -> &'static str {
    let (name, digest) = match image.split_once('@') {
        Some((name, _)) => (name, true),
        None => (image, false),
    };
    // Only the last path segment can carry a tag: in "host:5000/img" the ':' starts a port.
    let last_segment = name.rsplit('/').next().unwrap_or(name);
    match last_segment.split_once(':') {
        Some((_, "latest")) => "Always",
        None if !digest => "Always",
        _ => "IfNotPresent",
    }
}

/// Checks one container at `path` (`spec.containers[0]`); `volumes` are the
/// pod's volume names, which volume mounts must refer to.
pub(crate) fn validate_container(
    errs: &mut Errors,
    path: &str,
    container: &Container,
    volumes: &HashSet<&str>,
    host_network: bool,
) {
    check_name(errs, &format!("{path}.name"), &container.name, NameFormat::Dns1123Label);
    if container.image.is_empty() {
        errs.push(FieldError::required(format!("{path}.image")));
    } else if container.image.trim() != container.image {
        errs.push(FieldError::invalid(
            format!("{path}.image"),
            &container.image,
            "must not have leading or trailing whitespace",
        ));
    }
    check_enum(errs, &format!("{path}.imagePullPolicy"), &container.image_pull_policy, PULL_POLICIES);
    for (i, port) in container.ports.iter().enumerate() {
        validate_port(errs, &format!("{path}.ports[{i}]"), port, host_network);
    }
    for (i, env) in container.env.iter().enumerate() {
        validate_env(errs, &format!("{path}.env[{i}]"), env);
    }
    if let Some(resources) = &container.resources {
        validate_resources(errs, &format!("{path}.resources"), resources);
    }
    validate_mounts(errs, path, &container.volume_mounts, volumes);
    if let Some(probe) = &container.liveness_probe {
        let probe_path = format!("{path}.livenessProbe");
        validate_probe(errs, &probe_path, probe);
        // A single failure marks a container unhealthy, so a single success must mark it healthy.
        if probe.success_threshold != 1 {
            errs.push(FieldError::invalid(
                format!("{probe_path}.successThreshold"),
                probe.success_threshold,
                "must be 1",
            ));
        }
    }
    if let Some(probe) = &container.readiness_probe {
        validate_probe(errs, &format!("{path}.readinessProbe"), probe);
    }
}

/// A port's own fields; uniqueness of names across the pod is checked by the caller.
fn validate_port(errs: &mut Errors, path: &str, port: &ContainerPort, host_network: bool) {
    if !port.name.is_empty() {
        check_port_name(errs, &format!("{path}.name"), &port.name);
    }
    if port.container_port == 0 {
        errs.push(FieldError::required(format!("{path}.containerPort")));
    } else {
        check_port(errs, &format!("{path}.containerPort"), port.container_port);
    }
    check_range(errs, &format!("{path}.hostPort"), port.host_port.into(), 0, 65535);
    if host_network && port.host_port != port.container_port {
        errs.push(FieldError::invalid(
            format!("{path}.hostPort"),
            port.host_port,
            "must match containerPort when hostNetwork is true",
        ));
    }
    check_enum(errs, &format!("{path}.protocol"), &port.protocol, PROTOCOLS);
    if !port.host_ip.is_empty() {
        check_ipv4(errs, &format!("{path}.hostIP"), &port.host_ip);
    }
}

fn validate_env(errs: &mut Errors, path: &str, env: &EnvVar) {
    let name_ok = env.name.starts_with(|c: char| !c.is_ascii_digit())
        && env.name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if env.name.is_empty() {
        errs.push(FieldError::required(format!("{path}.name")));
    } else if !name_ok {
        errs.push(FieldError::invalid(
            format!("{path}.name"),
            &env.name,
            "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', \
             and must not start with a digit (e.g. 'MY_ENV.NAME')",
        ));
    }
    let Some(from) = &env.value_from else { return };
    let from_path = format!("{path}.valueFrom");
    if !env.value.is_empty() {
        errs.push(FieldError::invalid(&from_path, "", "may not be specified when value is not empty"));
    }
    match &from.field_ref {
        Some(field_ref) => {
            check_enum(errs, &format!("{from_path}.fieldRef.fieldPath"), &field_ref.field_path, ENV_FIELD_PATHS)
        }
        None => errs.push(FieldError::new(format!("{from_path}.fieldRef"), "Required value: must specify fieldRef")),
    }
}

/// Known resource names with quantity values, and no request above its limit.
fn validate_resources(errs: &mut Errors, path: &str, resources: &ResourceRequirements) {
    for (list, values) in [("limits", &resources.limits), ("requests", &resources.requests)] {
        for name in values.keys().filter(|name| !RESOURCE_NAMES.contains(&name.as_str())) {
            errs.push(FieldError::not_supported(format!("{path}.{list}[{name}]"), name, RESOURCE_NAMES));
        }
    }
    let limits = check_quantities(errs, &format!("{path}.limits"), &resources.limits);
    let requests = check_quantities(errs, &format!("{path}.requests"), &resources.requests);
    for (name, request) in requests {
        if limits.get(name).is_some_and(|limit| request > *limit) {
            errs.push(FieldError::invalid(
                format!("{path}.requests[{name}]"),
                &resources.requests[name],
                format!("must be less than or equal to {name} limit of {}", resources.limits[name]),
            ));
        }
    }
}

fn validate_mounts(errs: &mut Errors, path: &str, mounts: &[VolumeMount], volumes: &HashSet<&str>) {
    let mut mount_paths = HashSet::new();
    for (i, mount) in mounts.iter().enumerate() {
        let path = format!("{path}.volumeMounts[{i}]");
        if mount.name.is_empty() {
            errs.push(FieldError::required(format!("{path}.name")));
        } else if !volumes.contains(mount.name.as_str()) {
            errs.push(FieldError::new(
                format!("{path}.name"),
                format!("Not found: {:?}: no volume has this name", mount.name),
            ));
        }
        check_absolute_path(errs, &format!("{path}.mountPath"), &mount.mount_path);
        if !mount.mount_path.is_empty() && !mount_paths.insert(mount.mount_path.as_str()) {
            errs.push(FieldError::invalid(format!("{path}.mountPath"), &mount.mount_path, "must be unique"));
        }
        if mount.sub_path.starts_with('/') || mount.sub_path.split('/').any(|part| part == "..") {
            errs.push(FieldError::invalid(
                format!("{path}.subPath"),
                &mount.sub_path,
                "must be a relative path that does not contain '..'",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::validation::testing::{error_at, fields, from_json};
    use serde_json::json;

    fn check(container: serde_json::Value, host_network: bool) -> Errors {
        let mut container: Container = from_json(container);
        default_container(&mut container);
        let mut errs = Errors::new();
        validate_container(&mut errs, "c", &container, &HashSet::from(["data"]), host_network);
        errs
    }

    #[test]
    fn pull_policy_follows_the_tag() {
        let cases = [
            ("nginx", "Always"),
            ("nginx:latest", "Always"),
            ("nginx:1.25", "IfNotPresent"),
            ("registry.local:5000/team/app", "Always"),
            ("registry.local:5000/team/app:v2", "IfNotPresent"),
            ("app@sha256:0123abcd", "IfNotPresent"),
            ("app:latest@sha256:0123abcd", "Always"),
        ];
        for (image, policy) in cases {
            assert_eq!(default_pull_policy(image), policy, "{image}");
        }
    }

    #[test]
    fn defaults_are_filled() {
        let mut c: Container = from_json(json!({
            "name": "web", "image": "web:1", "imagePullPolicy": "Never",
            "ports": [{"containerPort": 80}], "readinessProbe": {"tcpSocket": {"port": 80}}
        }));
        default_container(&mut c);
        assert_eq!(c.image_pull_policy, "Never");
        assert_eq!(c.termination_message_path, "/dev/termination-log");
        assert_eq!(c.ports[0].protocol, "TCP");
        assert_eq!(c.readiness_probe.unwrap().failure_threshold, 3);
    }

    #[test]
    fn resource_quantities_are_stored_in_canonical_form() {
        let mut c: Container = from_json(json!({
            "name": "web", "image": "web:1",
            "resources": {"requests": {"cpu": 0.5, "memory": "128Mi"}, "limits": {"cpu": "1000m", "memory": "1e9"}}
        }));
        default_container(&mut c);
        let resources = c.resources.unwrap();
        assert_eq!((resources.requests["cpu"].as_str(), resources.requests["memory"].as_str()), ("500m", "128Mi"));
        assert_eq!((resources.limits["cpu"].as_str(), resources.limits["memory"].as_str()), ("1", "1e9"));
    }

    #[test]
    fn a_full_valid_container_passes() {
        let errs = check(
            json!({
                "name": "web", "image": "registry.local:5000/web:1.0",
                "ports": [{"name": "http", "containerPort": 8080, "hostPort": 80, "protocol": "TCP"},
                          {"containerPort": 53, "protocol": "UDP", "hostIP": "10.0.0.1"}],
                "env": [{"name": "MY_POD.name-1", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                        {"name": "MODE", "value": "prod"}],
                "resources": {"limits": {"cpu": "1", "memory": "128Mi"}, "requests": {"cpu": "500m"}},
                "volumeMounts": [{"name": "data", "mountPath": "/data", "subPath": "web/cache"}],
                "livenessProbe": {"httpGet": {"port": "http"}},
                "readinessProbe": {"exec": {"command": ["cat", "/ready"]}}
            }),
            false,
        );
        assert_eq!(errs, []);
    }

    #[test]
    fn every_port_problem_is_reported() {
        let errs = check(
            json!({"name": "web", "image": "web:1", "ports": [
                {"containerPort": 8080},
                {"name": "HTTP", "containerPort": 70000, "hostPort": -1, "protocol": "ICMP", "hostIP": "x"},
                {"hostPort": 80}
            ]}),
            false,
        );
        assert_eq!(
            fields(&errs),
            [
                "c.ports[1].name",
                "c.ports[1].containerPort",
                "c.ports[1].hostPort",
                "c.ports[1].protocol",
                "c.ports[1].hostIP",
                "c.ports[2].containerPort",
            ]
        );
        assert_eq!(
            errs[1].to_string(),
            "c.ports[1].containerPort: Invalid value: \"70000\": must be between 1 and 65535, inclusive"
        );
        assert!(errs[3].message.contains("supported values: \"TCP\", \"UDP\", \"SCTP\""));
        assert_eq!(errs[5].message, "Required value");
    }

    #[test]
    fn host_network_needs_host_port_equal_to_container_port() {
        let errs =
            check(json!({"name": "web", "image": "web:1", "ports": [{"containerPort": 80, "hostPort": 81}]}), true);
        assert!(error_at(&errs, "c.ports[0].hostPort").message.contains("must match containerPort"));
    }

    #[test]
    fn name_image_and_pull_policy_problems() {
        let errs = check(json!({"name": "Web_1", "image": " web ", "imagePullPolicy": "Sometimes"}), false);
        assert_eq!(fields(&errs), ["c.name", "c.image", "c.imagePullPolicy"]);
        assert!(errs[0].message.contains("RFC 1123 label"));
        assert!(errs[2].message.contains("\"Always\", \"IfNotPresent\", \"Never\""));
        let errs = check(json!({}), false);
        assert_eq!(fields(&errs), ["c.name", "c.image"]);
    }

    #[test]
    fn env_problems() {
        let errs = check(
            json!({"name": "web", "image": "web:1", "env": [
                {"value": "x"},
                {"name": "1ST"},
                {"name": "A", "value": "x", "valueFrom": {"fieldRef": {"fieldPath": "spec.hostname"}}},
                {"name": "B", "valueFrom": {}}
            ]}),
            false,
        );
        assert_eq!(
            fields(&errs),
            [
                "c.env[0].name",
                "c.env[1].name",
                "c.env[2].valueFrom",
                "c.env[2].valueFrom.fieldRef.fieldPath",
                "c.env[3].valueFrom.fieldRef"
            ]
        );
        assert!(errs[1].message.contains("must not start with a digit"));
        assert!(errs[3].message.contains("supported values: \"metadata.name\", \"metadata.namespace\""));
    }

    #[test]
    fn resource_problems() {
        let errs = check(
            json!({"name": "web", "image": "web:1", "resources": {
                "limits": {"cpu": "1", "memory": "lots", "nvidia.com/gpu": "1"},
                "requests": {"cpu": "1500m", "memory": "1Gi"}
            }}),
            false,
        );
        assert_eq!(
            fields(&errs),
            ["c.resources.limits[nvidia.com/gpu]", "c.resources.limits[memory]", "c.resources.requests[cpu]"]
        );
        assert!(errs[0].message.contains("supported values: \"cpu\", \"memory\", \"ephemeral-storage\""));
        assert!(errs[1].message.contains("a quantity such as"));
        assert_eq!(
            errs[2].to_string(),
            "c.resources.requests[cpu]: Invalid value: \"1500m\": must be less than or equal to cpu limit of 1"
        );
    }

    #[test]
    fn mount_and_probe_problems() {
        let errs = check(
            json!({"name": "web", "image": "web:1",
                "volumeMounts": [{"name": "cache", "mountPath": "data"},
                                 {"name": "data", "mountPath": "/d", "subPath": "../etc"},
                                 {"name": "data", "mountPath": "/d"}],
                "livenessProbe": {"exec": {"command": ["true"]}, "successThreshold": 2},
                "readinessProbe": {}
            }),
            false,
        );
        assert_eq!(
            fields(&errs),
            [
                "c.volumeMounts[0].name",
                "c.volumeMounts[0].mountPath",
                "c.volumeMounts[1].subPath",
                "c.volumeMounts[2].mountPath",
                "c.livenessProbe.successThreshold",
                "c.readinessProbe"
            ]
        );
        assert!(errs[0].message.starts_with("Not found: \"cache\""));
        assert!(errs[3].message.contains("must be unique"));
    }
}
