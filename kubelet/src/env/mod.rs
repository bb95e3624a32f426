//! A container's environment as Kubernetes builds it: the Service variables
//! of the pod's namespace, then the container's own `env` (which wins on a
//! clash), with `$(VAR)` references expanded and `fieldRef`s resolved.

mod expand;
mod fields;
mod services;

pub use expand::expand_command;
pub use services::service_env;

use rk_proto::v1::{Container, EnvVar, Pod, Service};

#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error(
        "container {container:?}: env {variable:?}: fieldRef.fieldPath {path:?} is not supported \
         (supported: {})",
        fields::SUPPORTED
    )]
    UnsupportedFieldPath { container: String, variable: String, path: String },
    #[error("container {container:?}: env {variable:?}: valueFrom names no source (supported: fieldRef)")]
    EmptyValueFrom { container: String, variable: String },
}

/// The environment of `container` in `pod`, whose IP is `pod_ip` on a node
/// whose IP is `host_ip`. Only the Services of the pod's namespace count.
pub fn container_env(
    pod: &Pod,
    container: &Container,
    pod_ip: &str,
    host_ip: &str,
    services: &[Service],
) -> Result<Vec<(String, String)>, EnvError> {
    let namespace = pod.metadata.as_ref().map(|meta| meta.namespace.as_str()).unwrap_or_default();
    let same_namespace: Vec<Service> = services
        .iter()
        .filter(|service| service.metadata.as_ref().is_some_and(|meta| meta.namespace == namespace))
        .cloned()
        .collect();
    let mut env = service_env(&same_namespace);
    for var in &container.env {
        let value = own_value(pod, container, var, pod_ip, host_ip, &env)?;
        match env.iter_mut().find(|(name, _)| *name == var.name) {
            Some(existing) => existing.1 = value,
            None => env.push((var.name.clone(), value)),
        }
    }
    Ok(env)
}

/// One `env` entry's value; `$(VAR)` sees the variables defined before it.
fn own_value(
    pod: &Pod,
    container: &Container,
    var: &EnvVar,
    pod_ip: &str,
    host_ip: &str,
    defined: &[(String, String)],
) -> Result<String, EnvError> {
    let Some(source) = &var.value_from else {
        let lookup = |name: &str| defined.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str());
        return Ok(expand::expand(&var.value, lookup));
    };
    let Some(field_ref) = &source.field_ref else {
        return Err(EnvError::EmptyValueFrom { container: container.name.clone(), variable: var.name.clone() });
    };
    fields::resolve(pod, &field_ref.field_path, pod_ip, host_ip).ok_or_else(|| EnvError::UnsupportedFieldPath {
        container: container.name.clone(),
        variable: var.name.clone(),
        path: field_ref.field_path.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::services::tests::service;
    use super::*;
    use rk_proto::v1::{EnvVarSource, ObjectFieldSelector, ObjectMeta, PodSpec};

    fn value(name: &str, value: &str) -> EnvVar {
        EnvVar { name: name.into(), value: value.into(), value_from: None }
    }

    fn field(name: &str, path: &str) -> EnvVar {
        EnvVar {
            name: name.into(),
            value: String::new(),
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector { api_version: "v1".into(), field_path: path.into() }),
            }),
        }
    }

    fn pod(env: Vec<EnvVar>) -> (Pod, Container) {
        let container = Container { name: "app".into(), env, ..Default::default() };
        let pod = Pod {
            metadata: Some(ObjectMeta { name: "web-1".into(), namespace: "default".into(), ..Default::default() }),
            spec: Some(PodSpec {
                containers: vec![container.clone()],
                node_name: "node-a".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        (pod, container)
    }

    fn get<'a>(env: &'a [(String, String)], name: &str) -> Option<&'a str> {
        env.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    #[test]
    fn services_first_then_own_values_fields_and_references() {
        let (pod, container) = pod(vec![
            field("POD_NAME", "metadata.name"),
            field("MY_IP", "status.podIP"),
            value("URL", "http://$(DB_SERVICE_HOST):$(DB_SERVICE_PORT)/$(POD_NAME)"),
            value("LATER", "$(DEFINED_BELOW)"),
            value("DEFINED_BELOW", "x"),
            value("PRICE", "$$5"),
        ]);
        let mut other_namespace = service("cache", "10.0.0.9", &[("", "TCP", 11211)]);
        other_namespace.metadata.as_mut().unwrap().namespace = "other".into();
        let services = [service("db", "10.0.0.5", &[("", "TCP", 5432)]), other_namespace];
        let env = container_env(&pod, &container, "10.244.1.7", "127.0.0.1", &services).unwrap();
        assert_eq!(env[0], ("DB_SERVICE_HOST".to_string(), "10.0.0.5".to_string()), "service variables come first");
        assert_eq!(get(&env, "CACHE_SERVICE_HOST"), None, "services of other namespaces are not seen");
        assert_eq!(get(&env, "POD_NAME"), Some("web-1"));
        assert_eq!(get(&env, "MY_IP"), Some("10.244.1.7"));
        assert_eq!(get(&env, "URL"), Some("http://10.0.0.5:5432/web-1"));
        assert_eq!(get(&env, "LATER"), Some("$(DEFINED_BELOW)"), "only earlier variables can be referenced");
        assert_eq!(get(&env, "PRICE"), Some("$5"));
        let own: Vec<&str> = env.iter().skip(7).map(|(key, _)| key.as_str()).collect();
        assert_eq!(own, vec!["POD_NAME", "MY_IP", "URL", "LATER", "DEFINED_BELOW", "PRICE"]);
    }

    #[test]
    fn own_env_wins_over_a_service_variable_and_names_stay_unique() {
        let (pod, container) = pod(vec![value("DB_SERVICE_HOST", "db.example"), value("A", "1"), value("A", "2-$(A)")]);
        let services = [service("db", "10.0.0.5", &[("", "TCP", 5432)])];
        let env = container_env(&pod, &container, "10.244.1.7", "127.0.0.1", &services).unwrap();
        assert_eq!(get(&env, "DB_SERVICE_HOST"), Some("db.example"));
        assert_eq!(get(&env, "A"), Some("2-1"));
        let mut names: Vec<&str> = env.iter().map(|(key, _)| key.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), env.len(), "no variable is set twice");
    }

    #[test]
    fn an_unsupported_field_path_names_the_container_variable_and_allowed_paths() {
        let (pod, container) = pod(vec![field("PHASE", "status.phase")]);
        let err = container_env(&pod, &container, "", "", &[]).unwrap_err().to_string();
        for part in ["\"app\"", "\"PHASE\"", "\"status.phase\"", "metadata.name", "status.podIP"] {
            assert!(err.contains(part), "{err:?} should mention {part}");
        }
    }

    #[test]
    fn a_value_from_without_a_source_is_refused() {
        let mut var = field("X", "metadata.name");
        var.value_from = Some(EnvVarSource { field_ref: None });
        let (pod, container) = pod(vec![var]);
        let err = container_env(&pod, &container, "", "", &[]).unwrap_err().to_string();
        assert!(err.contains("\"X\"") && err.contains("fieldRef"), "{err}");
    }
}
