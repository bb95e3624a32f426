//! Shared by the Docker tests: a "node" on the shared test dockerd with its
//! own bridge network in this process's leased /16, rk's images built, and
//! everything it made removed by `clean` (also at start, for what a killed
//! earlier run left in the same /16).
#![allow(dead_code)] // Each test binary uses its own part.

use std::collections::BTreeMap;
use std::time::Duration;

use bollard::query_parameters::{ListContainersOptionsBuilder, RemoveContainerOptionsBuilder};
use futures::StreamExt;
use rk_kubelet::images::BUSYBOX_IMAGE;
use rk_kubelet::runtime::docker::DockerRuntime;
use rk_kubelet::runtime::{
    labels, ContainerConfig, ContainerInfo, ContainerRuntime, LogOptions, PodNetwork, SandboxConfig,
};
use rk_testkit::{eventually, CidrLease};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long a test waits for something that should happen (a deadline, not a sleep).
pub const DEADLINE: Duration = Duration::from_secs(30);

pub struct TestNode {
    pub runtime: DockerRuntime,
    pub name: String,
    pub network: String,
    pub lease: CidrLease,
}

impl TestNode {
    /// A node named after the test, with rk's images and a bridge network on
    /// the first /24 of a leased /16.
    pub async fn start(test: &str) -> TestNode {
        let docker = rk_testkit::shared_dockerd();
        let lease = rk_testkit::lease_cluster_cidr();
        let octet = lease.cidr().split('.').nth(1).expect("a dotted CIDR").to_string();
        let name = format!("rk-test-{test}-{octet}");
        let runtime = DockerRuntime::connect(docker.host(), &name).await.expect("connecting to the test dockerd");
        runtime.ensure_project_images(&rk_testkit::static_images_dir()).await.unwrap_or_else(|e| panic!("{e}"));
        let node = TestNode { runtime, name, network: format!("rk-test-net-{octet}"), lease };
        node.clean().await;
        node.runtime
            .ensure_network(&node.network, &node.lease.subnet(0), &node.lease.gateway(0))
            .await
            .expect("creating the test network");
        node
    }

    /// Removes the containers of every test node of this /16 and its networks.
    pub async fn clean(&self) {
        let docker = self.runtime.client();
        let suffix = format!("-{}", self.octet());
        let filters = std::collections::HashMap::from([("label", vec![labels::NODE.to_string()])]);
        let options = ListContainersOptionsBuilder::new().all(true).filters(&filters).build();
        for container in docker.list_containers(Some(options)).await.expect("listing containers") {
            let node =
                container.labels.as_ref().and_then(|labels| labels.get(labels::NODE)).cloned().unwrap_or_default();
            if node.starts_with("rk-test-") && node.ends_with(&suffix) {
                let id = container.id.unwrap_or_default();
                let remove = RemoveContainerOptionsBuilder::new().force(true).v(true).build();
                docker.remove_container(&id, Some(remove)).await.expect("removing a test container");
            }
        }
        let prefix = format!("10.{}.", self.octet());
        for network in docker.list_networks(None).await.expect("listing networks") {
            let in_lease = network.ipam.as_ref().and_then(|ipam| ipam.config.as_ref()).is_some_and(|configs| {
                configs.iter().any(|config| config.subnet.as_deref().is_some_and(|s| s.starts_with(&prefix)))
            });
            if in_lease {
                docker
                    .remove_network(network.name.as_deref().unwrap_or_default())
                    .await
                    .expect("removing a test network");
            }
        }
    }

    fn octet(&self) -> String {
        self.lease.cidr().split('.').nth(1).expect("a dotted CIDR").to_string()
    }

    /// A pod's sandbox settings on the test network.
    pub fn sandbox(&self, pod: &str) -> SandboxConfig {
        SandboxConfig {
            pod_uid: format!("uid-{pod}-0123456789"),
            namespace: "default".to_string(),
            pod_name: pod.to_string(),
            hostname: pod.to_string(),
            network: PodNetwork::Bridge(self.network.clone()),
            port_mappings: Vec::new(),
            image: rk_kubelet::images::PAUSE_IMAGE.to_string(),
            attempt: 0,
        }
    }

    /// A busybox container of the sandbox's pod running `sh -c script`.
    pub fn shell(&self, sandbox: &SandboxConfig, sandbox_id: &str, name: &str, script: &str) -> ContainerConfig {
        ContainerConfig {
            pod_uid: sandbox.pod_uid.clone(),
            namespace: sandbox.namespace.clone(),
            pod_name: sandbox.pod_name.clone(),
            sandbox_id: sandbox_id.to_string(),
            name: name.to_string(),
            attempt: 0,
            image: BUSYBOX_IMAGE.to_string(),
            entrypoint: Some(vec!["sh".to_string(), "-c".to_string()]),
            cmd: Some(vec![script.to_string()]),
            working_dir: None,
            env: Vec::new(),
            mounts: Vec::new(),
            memory_limit_bytes: None,
            nano_cpus: None,
            privileged: false,
            stdin: false,
            tty: false,
            labels: BTreeMap::new(),
            termination_grace_seconds: 30,
        }
    }

    /// Creates and starts a container; returns its id.
    pub async fn run(&self, config: &ContainerConfig) -> String {
        let id = self.runtime.create_container(config).await.expect("creating a container");
        self.runtime.start_container(&id).await.expect("starting a container");
        id
    }

    /// The container as listed, once `ready` holds for it.
    pub async fn wait_container(&self, id: &str, what: &str, ready: impl Fn(&ContainerInfo) -> bool) -> ContainerInfo {
        eventually(what, DEADLINE, || async {
            let listed = self.runtime.list_containers().await.expect("listing containers");
            listed.into_iter().find(|info| info.id == id && ready(info))
        })
        .await
    }

    /// The container's whole log so far, as text.
    pub async fn logs(&self, id: &str, options: LogOptions) -> String {
        let mut stream = self.runtime.logs(id, options).await.expect("reading logs");
        let mut text = Vec::new();
        while let Some(chunk) = stream.next().await {
            text.extend_from_slice(&chunk.expect("a log chunk"));
        }
        String::from_utf8_lossy(&text).into_owned()
    }
}

/// The IP of a running container (its sandbox's, for a pod).
pub async fn container_ip(runtime: &DockerRuntime, id: &str) -> String {
    let listed = runtime.list_containers().await.expect("listing containers");
    listed.into_iter().find(|c| c.id == id).and_then(|c| c.ip).expect("the container has an IP")
}

/// One HTTP/1.1 request to `ip:port` (a body is sent as a form); the status
/// and body of the answer, or `None` while nothing answers there.
pub async fn http(ip: &str, port: u16, method: &str, path: &str, form: Option<&str>) -> Option<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect((ip, port)).await.ok()?;
    let body = form.unwrap_or_default();
    let content_type = match form {
        Some(_) => "Content-Type: application/x-www-form-urlencoded\r\n",
        None => "",
    };
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {ip}\r\n{content_type}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await.ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    let status = head.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()?;
    Some((status, body.to_string()))
}
