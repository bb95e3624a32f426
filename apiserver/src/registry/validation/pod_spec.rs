//! Defaults and checks for a pod spec, shared by pods and by the pod template
//! of a replication controller (which reports under `spec.template.spec`).

use super::common::{
    check_absolute_path, check_enum, check_name, check_non_negative, check_quantity, Errors, NameFormat,
};
use super::container::{default_container, validate_container};
use super::meta::validate_labels;
use crate::registry::field_error::FieldError;
use rk_proto::v1::{EmptyDirVolumeSource, PodSpec, Volume};
use std::collections::HashSet;

pub(crate) const RESTART_POLICIES: &[&str] = &["Always", "OnFailure", "Never"];
const DNS_POLICIES: &[&str] = &["ClusterFirst", "Default", "None", "ClusterFirstWithHostNet"];
const HOST_PATH_TYPES: &[&str] =
    &["DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice"];

pub(crate) fn default_pod_spec(spec: &mut PodSpec) {
    if spec.restart_policy.is_empty() {
        spec.restart_policy = "Always".into();
    }
    if spec.dns_policy.is_empty() {
        spec.dns_policy = "ClusterFirst".into();
    }
    spec.termination_grace_period_seconds.get_or_insert(30);
    // As in Kubernetes, a volume that names no source is an emptyDir.
    for volume in &mut spec.volumes {
        if volume_sources(volume).is_empty() {
            volume.empty_dir = Some(EmptyDirVolumeSource::default());
        }
    }
    for container in &mut spec.containers {
        default_container(container);
        // On the host network a container port is a host port.
        if spec.host_network {
            for port in container.ports.iter_mut().filter(|port| port.host_port == 0) {
                port.host_port = port.container_port;
            }
        }
    }
}

/// Checks a pod spec whose fields are reported under `path` (`spec`).
pub(crate) fn validate_pod_spec(errs: &mut Errors, path: &str, spec: &PodSpec) {
    let volumes = validate_volumes(errs, path, &spec.volumes);
    if spec.containers.is_empty() {
        errs.push(FieldError::new(format!("{path}.containers"), "Required value: a pod needs at least one container"));
    }
    let mut container_names = HashSet::new();
    let mut port_names = HashSet::new();
    for (i, container) in spec.containers.iter().enumerate() {
        let container_path = format!("{path}.containers[{i}]");
        validate_container(errs, &container_path, container, &volumes, spec.host_network);
        if !container.name.is_empty() && !container_names.insert(container.name.as_str()) {
            errs.push(FieldError::duplicate(format!("{container_path}.name"), &container.name));
        }
        // Probes and services refer to ports by name, so a name means one port in the whole pod.
        for (j, port) in container.ports.iter().enumerate() {
            if !port.name.is_empty() && !port_names.insert(port.name.as_str()) {
                errs.push(FieldError::duplicate(format!("{container_path}.ports[{j}].name"), &port.name));
            }
        }
    }
    check_enum(errs, &format!("{path}.restartPolicy"), &spec.restart_policy, RESTART_POLICIES);
    check_enum(errs, &format!("{path}.dnsPolicy"), &spec.dns_policy, DNS_POLICIES);
    if let Some(seconds) = spec.termination_grace_period_seconds {
        check_non_negative(errs, &format!("{path}.terminationGracePeriodSeconds"), seconds);
    }
    validate_labels(errs, &format!("{path}.nodeSelector"), &spec.node_selector);
    if !spec.node_name.is_empty() {
        check_name(errs, &format!("{path}.nodeName"), &spec.node_name, NameFormat::Dns1123Subdomain);
    }
    if !spec.hostname.is_empty() {
        check_name(errs, &format!("{path}.hostname"), &spec.hostname, NameFormat::Dns1123Label);
    }
}

/// Checks the volumes and returns their names, which volume mounts refer to.
fn validate_volumes<'a>(errs: &mut Errors, path: &str, volumes: &'a [Volume]) -> HashSet<&'a str> {
    let mut names = HashSet::new();
    for (i, volume) in volumes.iter().enumerate() {
        let path = format!("{path}.volumes[{i}]");
        check_name(errs, &format!("{path}.name"), &volume.name, NameFormat::Dns1123Label);
        if !volume.name.is_empty() && !names.insert(volume.name.as_str()) {
            errs.push(FieldError::duplicate(format!("{path}.name"), &volume.name));
        }
        let sources = volume_sources(volume);
        if sources.is_empty() {
            errs.push(FieldError::new(
                &path,
                "Required value: must specify a volume type (emptyDir, hostPath or dataset)",
            ));
        }
        for extra in sources.iter().skip(1) {
            errs.push(FieldError::new(
                format!("{path}.{extra}"),
                format!("Forbidden: may not specify more than 1 volume type (also has {})", sources[0]),
            ));
        }
        if let Some(empty_dir) = &volume.empty_dir {
            if !empty_dir.medium.is_empty() && empty_dir.medium != "Memory" {
                errs.push(FieldError::not_supported(
                    format!("{path}.emptyDir.medium"),
                    &empty_dir.medium,
                    &["", "Memory"],
                ));
            }
            if !empty_dir.size_limit.is_empty() {
                check_quantity(errs, &format!("{path}.emptyDir.sizeLimit"), &empty_dir.size_limit);
            }
        }
        if let Some(host_path) = &volume.host_path {
            check_absolute_path(errs, &format!("{path}.hostPath.path"), &host_path.path);
            if !host_path.r#type.is_empty() {
                check_enum(errs, &format!("{path}.hostPath.type"), &host_path.r#type, HOST_PATH_TYPES);
            }
        }
        if let Some(dataset) = &volume.dataset {
            check_name(errs, &format!("{path}.dataset.name"), &dataset.name, NameFormat::Dns1123Label);
        }
    }
    names
}

/// The JSON names of the sources a volume specifies, in declaration order.
fn volume_sources(volume: &Volume) -> Vec<&'static str> {
    [
        ("emptyDir", volume.empty_dir.is_some()),
        ("hostPath", volume.host_path.is_some()),
        ("dataset", volume.dataset.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, present)| present.then_some(name))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::validation::testing::{error_at, fields, from_json};
    use serde_json::json;

    fn defaulted(spec: serde_json::Value) -> PodSpec {
        let mut spec: PodSpec = from_json(spec);
        default_pod_spec(&mut spec);
        spec
    }

    fn check(spec: &PodSpec) -> Errors {
        let mut errs = Errors::new();
        validate_pod_spec(&mut errs, "spec", spec);
        errs
    }

    #[test]
    fn defaults_are_filled() {
        let spec = defaulted(json!({
            "hostNetwork": true,
            "volumes": [{"name": "scratch"}],
            "containers": [{"name": "web", "image": "web", "ports": [{"containerPort": 80}]}]
        }));
        assert_eq!((spec.restart_policy.as_str(), spec.dns_policy.as_str()), ("Always", "ClusterFirst"));
        assert_eq!(spec.termination_grace_period_seconds, Some(30));
        assert!(spec.volumes[0].empty_dir.is_some());
        assert_eq!(spec.containers[0].image_pull_policy, "Always");
        assert_eq!(spec.containers[0].ports[0].host_port, 80);
        assert_eq!(check(&spec), []);
        let explicit = defaulted(json!({"restartPolicy": "Never", "terminationGracePeriodSeconds": 0}));
        assert_eq!((explicit.restart_policy.as_str(), explicit.termination_grace_period_seconds), ("Never", Some(0)));
    }

    #[test]
    fn a_valid_spec_passes() {
        let spec = defaulted(json!({
            "volumes": [{"name": "data", "hostPath": {"path": "/var/data", "type": "DirectoryOrCreate"}},
                        {"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}}],
            "containers": [
                {"name": "web", "image": "web:1", "ports": [{"name": "http", "containerPort": 80}],
                 "volumeMounts": [{"name": "data", "mountPath": "/data"}]},
                {"name": "sidecar", "image": "sidecar:1", "ports": [{"name": "metrics", "containerPort": 9090}]}
            ],
            "nodeSelector": {"disk": "ssd"}, "nodeName": "node-1", "hostname": "web-0"
        }));
        assert_eq!(check(&spec), []);
    }

    #[test]
    fn an_empty_spec_needs_containers_and_policies() {
        let errs = check(&PodSpec::default());
        assert_eq!(fields(&errs), ["spec.containers", "spec.restartPolicy", "spec.dnsPolicy"]);
        assert!(errs[0].message.contains("at least one container"));
    }

    #[test]
    fn duplicates_across_containers_are_reported() {
        let spec = defaulted(json!({"containers": [
            {"name": "web", "image": "a", "ports": [{"name": "http", "containerPort": 80}]},
            {"name": "web", "image": "b", "ports": [{"name": "http", "containerPort": 81}]}
        ]}));
        let errs = check(&spec);
        assert_eq!(fields(&errs), ["spec.containers[1].name", "spec.containers[1].ports[0].name"]);
        assert_eq!(errs[1].message, "Duplicate value: \"http\"");
    }

    #[test]
    fn every_spec_level_problem_is_reported() {
        let spec = defaulted(json!({
            "restartPolicy": "Sometimes", "dnsPolicy": "Google", "terminationGracePeriodSeconds": -1,
            "nodeSelector": {"bad key": "x"}, "nodeName": "Node_1", "hostname": "a.b",
            "containers": [{"name": "web", "image": "web:1", "volumeMounts": [{"name": "data", "mountPath": "/d"}]}]
        }));
        let errs = check(&spec);
        assert_eq!(
            fields(&errs),
            [
                "spec.containers[0].volumeMounts[0].name",
                "spec.restartPolicy",
                "spec.dnsPolicy",
                "spec.terminationGracePeriodSeconds",
                "spec.nodeSelector",
                "spec.nodeName",
                "spec.hostname"
            ]
        );
        assert_eq!(
            errs[1].to_string(),
            "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\""
        );
        assert!(errs[3].message.contains("must be greater than or equal to 0"));
    }

    #[test]
    fn volume_problems() {
        let mut spec = defaulted(json!({
            "volumes": [
                {"name": "data", "emptyDir": {"medium": "Disk", "sizeLimit": "big"}, "hostPath": {"path": "data"}},
                {"name": "data", "hostPath": {"path": "/x", "type": "Pipe"}},
                {"name": "Bad_Name", "emptyDir": {}}
            ],
            "containers": [{"name": "web", "image": "web:1"}]
        }));
        spec.volumes.push(Volume { name: "none".into(), ..Default::default() });
        let errs = check(&spec);
        assert_eq!(
            fields(&errs),
            [
                "spec.volumes[0].hostPath",
                "spec.volumes[0].emptyDir.medium",
                "spec.volumes[0].emptyDir.sizeLimit",
                "spec.volumes[0].hostPath.path",
                "spec.volumes[1].name",
                "spec.volumes[1].hostPath.type",
                "spec.volumes[2].name",
                "spec.volumes[3]"
            ]
        );
        assert!(error_at(&errs, "spec.volumes[0].hostPath.path").message.contains("absolute path"));
        assert!(error_at(&errs, "spec.volumes[3]").message.contains("must specify a volume type"));
    }

    #[test]
    fn dataset_volumes() {
        let spec = defaulted(json!({
            "volumes": [
                {"name": "db", "dataset": {"name": "redis-data"}},
                {"name": "nameless", "dataset": {}},
                {"name": "dotted", "dataset": {"name": "redis.data"}},
                {"name": "both", "dataset": {"name": "x"}, "emptyDir": {}}
            ],
            "containers": [{"name": "web", "image": "web:1", "volumeMounts": [{"name": "db", "mountPath": "/data"}]}]
        }));
        assert!(spec.volumes[0].empty_dir.is_none(), "a dataset volume is not defaulted to an emptyDir");
        let errs = check(&spec);
        assert_eq!(
            fields(&errs),
            ["spec.volumes[1].dataset.name", "spec.volumes[2].dataset.name", "spec.volumes[3].dataset"]
        );
        assert_eq!(errs[0].message, "Required value");
        assert!(errs[1].message.contains("RFC 1123 label"));
        assert_eq!(errs[2].message, "Forbidden: may not specify more than 1 volume type (also has emptyDir)");
    }
}
