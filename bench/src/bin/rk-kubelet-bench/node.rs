//! A cluster with one real node, and what the parts measuring it share: an
//! apiserver client, a watch on the bench's pods, the node's Docker.

use crate::cluster::Cluster;
use crate::docker::NodeDocker;
use crate::objects;
use crate::pod_watch::PodWatch;
use rk_client::Client;

pub struct NodeBench {
    pub client: Client,
    pub watch: PodWatch,
    pub docker: NodeDocker,
    /// Last, so it is torn down after the watch and connections above.
    pub cluster: Cluster,
}

impl NodeBench {
    pub async fn start(docker_host: Option<&str>) -> anyhow::Result<NodeBench> {
        let cluster = Cluster::with_node(docker_host).await?;
        let client = cluster.client().await?;
        objects::create_namespace(&client).await?;
        let watch = PodWatch::start(&client, objects::NAMESPACE).await?;
        let docker = NodeDocker::connect(cluster.docker_host(), cluster.node_name(), &cluster.pod_network()).await?;
        Ok(NodeBench { client, watch, docker, cluster })
    }

    /// Removes every pod of the bench and the baseline's containers.
    pub async fn clear(&self) -> anyhow::Result<()> {
        self.docker.remove_baseline().await?;
        objects::clear_pods(&self.client, &self.watch, Some(&self.docker)).await
    }
}
