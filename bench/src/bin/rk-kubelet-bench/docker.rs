//! The node's dockerd through bollard: the baseline (a pod's Docker calls
//! made directly, as the kubelet makes them), and what Docker recorded of
//! the kubelet's containers (when each was created and started).

use crate::cluster::BENCH_LABEL;
use anyhow::{bail, Context};
use bollard::models::{ContainerCreateBody, HostConfig, HostConfigLogConfig, RestartPolicy, RestartPolicyNameEnum};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, RemoveContainerOptionsBuilder,
};
use bollard::{Docker, API_DEFAULT_VERSION};
use chrono::{DateTime, Utc};
use rk_kubelet::images::PAUSE_IMAGE;
use rk_kubelet::runtime::labels;
use std::collections::HashMap;
use std::time::{Duration, Instant};

const REQUEST_TIMEOUT_SECS: u64 = 120;

pub struct NodeDocker {
    docker: Docker,
    node: String,
    network: String,
}

/// How long each call of one baseline pod took.
#[derive(Debug, Clone, Copy)]
pub struct BaselinePod {
    pub create_pause: Duration,
    pub start_pause: Duration,
    pub create_app: Duration,
    pub start_app: Duration,
}

impl BaselinePod {
    pub fn total(&self) -> Duration {
        self.create_pause + self.start_pause + self.create_app + self.start_app
    }
}

/// What Docker recorded of a kubelet pod's sandbox and app container.
#[derive(Debug, Clone, Copy)]
pub struct PodContainers {
    pub sandbox_created: DateTime<Utc>,
    pub sandbox_started: DateTime<Utc>,
    pub app_created: DateTime<Utc>,
    pub app_started: DateTime<Utc>,
}

impl NodeDocker {
    /// Connects to `host` (`unix:///path`), where `node`'s pods run on `network`.
    pub async fn connect(host: &str, node: &str, network: &str) -> anyhow::Result<NodeDocker> {
        let Some(path) = host.strip_prefix("unix://") else {
            bail!("--docker-host {host:?}: the bench talks to a local dockerd only, as unix:///path/to/docker.sock");
        };
        let docker = Docker::connect_with_unix(path, REQUEST_TIMEOUT_SECS, API_DEFAULT_VERSION)
            .with_context(|| format!("connecting to Docker at {host}"))?
            .negotiate_version()
            .await
            .with_context(|| format!("Docker at {host} does not answer"))?;
        Ok(NodeDocker { docker, node: node.into(), network: network.into() })
    }

    /// One pod the way the kubelet makes it, directly: a pause container on
    /// the node's network (own hostname, shareable IPC), then the app
    /// container joined to its network and IPC namespaces; each call timed.
    pub async fn baseline_pod(&self, name: &str) -> anyhow::Result<BaselinePod> {
        let started = Instant::now();
        let pause = ContainerCreateBody {
            image: Some(PAUSE_IMAGE.into()),
            hostname: Some(name.into()),
            labels: Some(HashMap::from([(BENCH_LABEL.to_string(), "baseline".to_string())])),
            host_config: Some(HostConfig {
                network_mode: Some(self.network.clone()),
                ipc_mode: Some("shareable".into()),
                ..host_defaults()
            }),
            ..Default::default()
        };
        let pause_id = self.create(&format!("{name}_POD"), pause).await?;
        let create_pause = started.elapsed();
        self.docker.start_container(&pause_id, None).await.with_context(|| format!("starting {name}'s pause"))?;
        let start_pause = started.elapsed() - create_pause;
        let joined = format!("container:{pause_id}");
        let app = ContainerCreateBody {
            image: Some(crate::objects::IMAGE.into()),
            cmd: Some(crate::objects::SLEEP.iter().map(|s| s.to_string()).collect()),
            env: Some(Vec::new()),
            labels: Some(HashMap::from([(BENCH_LABEL.to_string(), "baseline".to_string())])),
            host_config: Some(HostConfig {
                network_mode: Some(joined.clone()),
                ipc_mode: Some(joined),
                ..host_defaults()
            }),
            ..Default::default()
        };
        let app_id = self.create(&format!("{name}_app"), app).await?;
        let create_app = started.elapsed() - create_pause - start_pause;
        self.docker.start_container(&app_id, None).await.with_context(|| format!("starting {name}'s app"))?;
        let start_app = started.elapsed() - create_pause - start_pause - create_app;
        Ok(BaselinePod { create_pause, start_pause, create_app, start_app })
    }

    async fn create(&self, name: &str, body: ContainerCreateBody) -> anyhow::Result<String> {
        let options = CreateContainerOptionsBuilder::new().name(&format!("rk-bench_{name}")).build();
        let created =
            self.docker.create_container(Some(options), body).await.with_context(|| format!("creating {name}"))?;
        Ok(created.id)
    }

    /// Force-removes the baseline's containers, apps before their pause containers.
    pub async fn remove_baseline(&self) -> anyhow::Result<()> {
        let ids = self.ids(BENCH_LABEL).await?;
        let (pauses, apps): (Vec<_>, Vec<_>) = ids.into_iter().partition(|(name, _)| name.ends_with("_POD"));
        for batch in [apps, pauses] {
            let removals = batch.iter().map(|(name, id)| async move {
                let options = RemoveContainerOptionsBuilder::new().force(true).v(true).build();
                self.docker.remove_container(id, Some(options)).await.with_context(|| format!("removing {name}"))
            });
            futures::future::try_join_all(removals).await?;
        }
        Ok(())
    }

    /// Waits until the node has no containers left (the kubelet removes a
    /// deleted pod's containers).
    pub async fn wait_node_empty(&self, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = self.ids(&format!("{}={}", labels::NODE, self.node)).await?.len();
            if left == 0 {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the kubelet left {left} containers of deleted pods for more than {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// When Docker created and started the sandbox and app container of the pod with `uid`.
    pub async fn pod_containers(&self, uid: &str) -> anyhow::Result<PodContainers> {
        let ids = self.ids(&format!("{}={uid}", labels::POD_UID)).await?;
        let (mut sandbox, mut app) = (None, None);
        for (_, id) in ids {
            let inspect = self.docker.inspect_container(&id, None).await.with_context(|| format!("inspecting {id}"))?;
            let time = |text: Option<&String>| -> anyhow::Result<DateTime<Utc>> {
                let text = text.context("a container without its times")?;
                Ok(DateTime::parse_from_rfc3339(text).with_context(|| format!("a container time {text:?}"))?.into())
            };
            let created = time(inspect.created.as_ref())?;
            let started = time(inspect.state.as_ref().and_then(|state| state.started_at.as_ref()))?;
            let is_sandbox = inspect.config.and_then(|c| c.labels).is_some_and(|l| l.contains_key(labels::SANDBOX));
            *if is_sandbox { &mut sandbox } else { &mut app } = Some((created, started));
        }
        match (sandbox, app) {
            (Some(sandbox), Some(app)) => Ok(PodContainers {
                sandbox_created: sandbox.0,
                sandbox_started: sandbox.1,
                app_created: app.0,
                app_started: app.1,
            }),
            _ => bail!("pod {uid} does not have one sandbox and one app container in Docker"),
        }
    }

    /// Names and ids of the containers carrying `label` (`key` or `key=value`), running or not.
    async fn ids(&self, label: &str) -> anyhow::Result<Vec<(String, String)>> {
        let filters = HashMap::from([("label", vec![label.to_string()])]);
        let options = ListContainersOptionsBuilder::new().all(true).filters(&filters).build();
        let containers = self.docker.list_containers(Some(options)).await.context("listing containers")?;
        Ok(containers
            .into_iter()
            .filter_map(|c| {
                let name = c.names.and_then(|names| names.into_iter().next()).unwrap_or_default();
                Some((name, c.id?))
            })
            .collect())
    }
}

/// As the kubelet runs containers: no restarts by Docker, json-file logs.
fn host_defaults() -> HostConfig {
    HostConfig {
        restart_policy: Some(RestartPolicy { name: Some(RestartPolicyNameEnum::NO), maximum_retry_count: None }),
        log_config: Some(HostConfigLogConfig { typ: Some("json-file".into()), config: None }),
        ..Default::default()
    }
}
