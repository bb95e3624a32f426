//! Creating, starting, stopping and removing containers: the pod's sandbox
//! (pause container) and the app containers that join its namespaces.

use std::collections::HashMap;
use std::time::Duration;

use bollard::models::{
    ContainerCreateBody, HostConfig, HostConfigLogConfig, PortBinding, PortMap, RestartPolicy, RestartPolicyNameEnum,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, RemoveContainerOptionsBuilder, StopContainerOptionsBuilder,
};
use bollard::Docker;

use super::errors::{container_error, docker_error, status_code};
use crate::runtime::{labels, ContainerConfig, PodNetwork, PortMapping, RuntimeResult, SandboxConfig};

/// The name part standing for the sandbox, as Kubernetes' dockershim wrote it.
const SANDBOX_NAME: &str = "POD";
/// Beyond the grace period, how long `docker stop` may take to answer.
const STOP_MARGIN: Duration = Duration::from_secs(30);

/// Creates and starts the pause container of a pod; returns its id.
pub(super) async fn run_sandbox(docker: &Docker, node: &str, config: &SandboxConfig) -> RuntimeResult<String> {
    let mut labels = pod_labels(node, &config.pod_uid, &config.namespace, &config.pod_name, config.attempt);
    labels.insert(labels::SANDBOX.to_string(), "true".to_string());
    let (network_mode, hostname, ports) = match &config.network {
        // The node's namespace: its hostname, and ports need no publishing.
        PodNetwork::Host => ("host".to_string(), None, Vec::new()),
        PodNetwork::Bridge(name) => (name.clone(), Some(config.hostname.clone()), config.port_mappings.clone()),
    };
    let (exposed_ports, port_bindings) = port_bindings(&ports);
    let body = ContainerCreateBody {
        image: Some(config.image.clone()),
        hostname,
        labels: Some(labels),
        exposed_ports: Some(exposed_ports),
        host_config: Some(HostConfig {
            network_mode: Some(network_mode),
            // App containers join this IPC namespace.
            ipc_mode: Some("shareable".to_string()),
            port_bindings: Some(port_bindings),
            ..host_config_defaults()
        }),
        ..Default::default()
    };
    let name = container_name(&config.pod_name, &config.namespace, &config.pod_uid, SANDBOX_NAME, config.attempt);
    let id = create_named(docker, &name, body).await?;
    if let Err(e) = start_container(docker, &id).await {
        // A sandbox that cannot start is of no use: do not leave it behind.
        let _ = remove_container(docker, &id).await;
        return Err(e);
    }
    if let PodNetwork::Bridge(network) = &config.network {
        // The pod works without it, only not through its own Services.
        if let Err(error) = super::hairpin::enable_on_ports(docker, network).await {
            tracing::warn!(%error, pod = %config.pod_name, "could not turn on hairpin mode on the pod bridge");
        }
    }
    Ok(id)
}

/// Creates (without starting) an app container in the pod's sandbox.
pub(super) async fn create_container(docker: &Docker, node: &str, config: &ContainerConfig) -> RuntimeResult<String> {
    let mut labels = pod_labels(node, &config.pod_uid, &config.namespace, &config.pod_name, config.attempt);
    labels.extend(config.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
    labels.insert(labels::CONTAINER_NAME.to_string(), config.name.clone());
    labels.insert(labels::TERMINATION_GRACE.to_string(), config.termination_grace_seconds.to_string());
    let sandbox = format!("container:{}", config.sandbox_id);
    let body = ContainerCreateBody {
        image: Some(config.image.clone()),
        entrypoint: config.entrypoint.clone(),
        cmd: config.cmd.clone(),
        working_dir: config.working_dir.clone(),
        env: Some(config.env.iter().map(|(name, value)| format!("{name}={value}")).collect()),
        labels: Some(labels),
        tty: Some(config.tty),
        open_stdin: Some(config.stdin),
        stdin_once: Some(false),
        host_config: Some(HostConfig {
            network_mode: Some(sandbox.clone()),
            ipc_mode: Some(sandbox),
            binds: Some(config.mounts.iter().map(bind).collect()),
            memory: config.memory_limit_bytes,
            // No swap beyond the limit, as Kubernetes runs containers.
            memory_swap: config.memory_limit_bytes,
            nano_cpus: config.nano_cpus,
            privileged: Some(config.privileged),
            ..host_config_defaults()
        }),
        ..Default::default()
    };
    let name = container_name(&config.pod_name, &config.namespace, &config.pod_uid, &config.name, config.attempt);
    create_named(docker, &name, body).await
}

pub(super) async fn start_container(docker: &Docker, id: &str) -> RuntimeResult<()> {
    docker.start_container(id, None).await.map_err(|e| container_error(id, "starting", e))
}

/// `docker stop`: SIGTERM, SIGKILL after `grace`. A container already stopped
/// or gone counts as stopped.
pub(super) async fn stop_container(docker: &Docker, id: &str, grace: Duration) -> RuntimeResult<()> {
    let seconds = grace.as_secs() + u64::from(grace.subsec_nanos() > 0);
    let options = StopContainerOptionsBuilder::new().t(i32::try_from(seconds).unwrap_or(i32::MAX)).build();
    // Docker answers once the container is down, which can take the whole grace.
    let docker = docker.clone().with_timeout(Duration::from_secs(seconds) + STOP_MARGIN);
    match docker.stop_container(id, Some(options)).await {
        Err(e) if status_code(&e) != Some(404) => Err(container_error(id, "stopping", e)),
        _ => Ok(()),
    }
}

/// Force-removes the container and its anonymous volumes; a container already
/// gone (or being removed) counts as removed.
pub(super) async fn remove_container(docker: &Docker, id: &str) -> RuntimeResult<()> {
    let options = RemoveContainerOptionsBuilder::new().force(true).v(true).build();
    match docker.remove_container(id, Some(options)).await {
        Err(e) if !matches!(status_code(&e), Some(404 | 409)) => Err(container_error(id, "removing", e)),
        _ => Ok(()),
    }
}

/// Creates the container under `name`; when the name is taken (a leftover of
/// an interrupted kubelet), under `name` with a random suffix instead: the
/// labels, not the name, say whose it is.
async fn create_named(docker: &Docker, name: &str, body: ContainerCreateBody) -> RuntimeResult<String> {
    let create = |name: String, body: ContainerCreateBody| async move {
        let options = CreateContainerOptionsBuilder::new().name(&name).build();
        docker.create_container(Some(options), body).await
    };
    let created = match create(name.to_string(), body.clone()).await {
        Err(e) if status_code(&e) == Some(409) => create(format!("{name}_{:08x}", rand::random::<u32>()), body).await,
        other => other,
    };
    created.map(|created| created.id).map_err(|e| docker_error(&format!("creating container {name}"), e))
}

/// `rk_<pod>_<namespace>_<uid prefix>_<container|POD>_<attempt>`: readable in
/// `docker ps`, and unique per pod, container and attempt.
fn container_name(pod: &str, namespace: &str, uid: &str, container: &str, attempt: u32) -> String {
    let uid: String = uid.chars().take(8).collect();
    format!("rk_{pod}_{namespace}_{uid}_{container}_{attempt}")
}

/// The labels every container of a pod carries.
fn pod_labels(node: &str, uid: &str, namespace: &str, pod: &str, attempt: u32) -> HashMap<String, String> {
    [
        (labels::NODE, node.to_string()),
        (labels::POD_UID, uid.to_string()),
        (labels::POD_NAMESPACE, namespace.to_string()),
        (labels::POD_NAME, pod.to_string()),
        (labels::ATTEMPT, attempt.to_string()),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_string(), value))
    .collect()
}

/// What every container gets: no restart by Docker (the kubelet restarts),
/// and json-file logs (what `docker logs` reads).
fn host_config_defaults() -> HostConfig {
    HostConfig {
        restart_policy: Some(RestartPolicy { name: Some(RestartPolicyNameEnum::NO), maximum_retry_count: None }),
        log_config: Some(HostConfigLogConfig { typ: Some("json-file".to_string()), config: None }),
        ..Default::default()
    }
}

/// Exposed ports and their host bindings (`hostPort`), keyed `<port>/<protocol>`.
fn port_bindings(mappings: &[PortMapping]) -> (Vec<String>, PortMap) {
    let mut bindings = PortMap::new();
    for mapping in mappings {
        let key = format!("{}/{}", mapping.container_port, mapping.protocol);
        let host_ip = (!mapping.host_ip.is_empty()).then(|| mapping.host_ip.clone());
        let binding = PortBinding { host_ip, host_port: Some(mapping.host_port.to_string()) };
        bindings.entry(key).or_insert_with(|| Some(Vec::new())).get_or_insert_with(Vec::new).push(binding);
    }
    let mut exposed: Vec<String> = bindings.keys().cloned().collect();
    exposed.sort();
    (exposed, bindings)
}

fn bind(mount: &crate::runtime::Mount) -> String {
    let mode = if mount.read_only { ":ro" } else { "" };
    format!("{}:{}{mode}", mount.host_path, mount.container_path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_readable_and_carry_pod_container_and_attempt() {
        let name = container_name("web-1", "default", "0123456789abcdef", "nginx", 2);
        assert_eq!(name, "rk_web-1_default_01234567_nginx_2");
        assert_eq!(container_name("p", "ns", "abc", SANDBOX_NAME, 0), "rk_p_ns_abc_POD_0");
    }

    #[test]
    fn port_mappings_become_bindings_keyed_by_port_and_protocol() {
        let mapping = |host_port, container_port, protocol: &str, host_ip: &str| PortMapping {
            host_port,
            container_port,
            protocol: protocol.to_string(),
            host_ip: host_ip.to_string(),
        };
        let (exposed, bindings) = port_bindings(&[
            mapping(8080, 80, "tcp", ""),
            mapping(8081, 80, "tcp", "127.0.0.1"),
            mapping(53, 53, "udp", ""),
        ]);
        assert_eq!(exposed, ["53/udp", "80/tcp"]);
        let tcp = bindings["80/tcp"].as_ref().unwrap();
        assert_eq!(tcp.len(), 2);
        assert_eq!(tcp[0], PortBinding { host_ip: None, host_port: Some("8080".to_string()) });
        assert_eq!(tcp[1].host_ip.as_deref(), Some("127.0.0.1"));
    }

    #[test]
    fn mounts_become_binds_with_read_only_suffix() {
        let mount = |read_only| crate::runtime::Mount {
            host_path: "/data".to_string(),
            container_path: "/srv".to_string(),
            read_only,
        };
        assert_eq!(bind(&mount(false)), "/data:/srv");
        assert_eq!(bind(&mount(true)), "/data:/srv:ro");
    }
}
