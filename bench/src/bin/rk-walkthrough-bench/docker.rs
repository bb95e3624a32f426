//! The baseline: the walkthrough's own containers (image, command, args,
//! env) created and started directly on a node's dockerd, all at once, as
//! Docker alone would run them: no pause container, volumes or probes.

use anyhow::{bail, Context};
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{CreateContainerOptionsBuilder, RemoveContainerOptionsBuilder};
use bollard::{Docker, API_DEFAULT_VERSION};
use rk_proto::v1::Container;
use std::collections::HashMap;
use std::time::{Duration, Instant};

const REQUEST_TIMEOUT_SECS: u64 = 120;
/// Marks the bench's own containers.
const LABEL: &str = "io.rk.walkthrough-bench";

pub struct NodeDocker {
    docker: Docker,
}

impl NodeDocker {
    /// Connects to `host` (`unix:///path`).
    pub async fn connect(host: &str) -> anyhow::Result<NodeDocker> {
        let Some(path) = host.strip_prefix("unix://") else { bail!("{host}: not a unix socket") };
        let docker = Docker::connect_with_unix(path, REQUEST_TIMEOUT_SECS, API_DEFAULT_VERSION)
            .with_context(|| format!("connecting to Docker at {host}"))?
            .negotiate_version()
            .await
            .with_context(|| format!("Docker at {host} does not answer"))?;
        Ok(NodeDocker { docker })
    }

    /// Creates and starts `containers` at once; the time until every one has
    /// started. They are removed afterwards (not timed).
    pub async fn start_all(&self, containers: &[Container]) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let runs = containers.iter().enumerate().map(|(i, container)| self.run(i, container));
        let ids = futures::future::join_all(runs).await;
        let elapsed = started.elapsed();
        let removals = ids.iter().flatten().map(|id| {
            let options = RemoveContainerOptionsBuilder::new().force(true).v(true).build();
            self.docker.remove_container(id, Some(options))
        });
        futures::future::join_all(removals).await;
        ids.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
        Ok(elapsed)
    }

    async fn run(&self, index: usize, container: &Container) -> anyhow::Result<String> {
        let name = format!("rk-walkthrough-bench-{}-{index}-{}", container.name, std::process::id());
        let env = container.env.iter().map(|var| format!("{}={}", var.name, var.value)).collect();
        let body = ContainerCreateBody {
            image: Some(container.image.clone()),
            entrypoint: (!container.command.is_empty()).then(|| container.command.clone()),
            cmd: (!container.args.is_empty()).then(|| container.args.clone()),
            env: Some(env),
            labels: Some(HashMap::from([(LABEL.to_string(), "baseline".to_string())])),
            host_config: Some(HostConfig::default()),
            ..Default::default()
        };
        let options = CreateContainerOptionsBuilder::new().name(&name).build();
        let id =
            self.docker.create_container(Some(options), body).await.with_context(|| format!("creating {name}"))?.id;
        self.docker.start_container(&id, None).await.with_context(|| format!("starting {name}"))?;
        Ok(id)
    }
}
