//! One kubelet, assembled: register the Node and keep it heartbeating, set
//! up the node's pod network, watch this node's pods (and the Services their
//! environment needs), and sync each pod on every change and every relist.

use crate::config::KubeletConfig;
use crate::datasets::{self, DatasetSettings};
use crate::node;
use crate::pleg::Pleg;
use crate::pods::sync::{PodSyncer, PodSyncerParts};
use crate::probes::ProbeManager;
use crate::runtime::ContainerRuntime;
use rk_client::clock::{Clock, SystemClock};
use rk_client::{object_key, run_controller, Change, Client, Informer, Store, WorkQueue};
use rk_proto::v1::{Dataset, ListOptions, Node, Pod, Service};
use std::sync::Arc;
use tokio::task::JoinHandle;

/// Concurrent pod syncs: a sync can wait a whole grace period on a stopping container.
const POD_WORKERS: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum KubeletError {
    #[error("registering node {node}: {source}")]
    Register { node: String, source: node::NodeError },
    #[error("setting up the pod network {network} for {cidr}: {source}")]
    Network { network: String, cidr: String, source: crate::runtime::RuntimeError },
    #[error("node {node} has an invalid pod CIDR {cidr:?}")]
    PodCidr { node: String, cidr: String },
}

/// A started kubelet: its node registered, its pods being synced.
pub struct Kubelet {
    queue: Arc<WorkQueue>,
    dataset_queue: Arc<WorkQueue>,
    tasks: Vec<JoinHandle<()>>,
}

impl Kubelet {
    /// Registers the node, sets up its pod network and starts syncing pods;
    /// returns once the pods are being synced. Pods keep running after the
    /// kubelet stops: a restarted kubelet adopts them.
    pub async fn start(
        config: KubeletConfig,
        runtime: Arc<dyn ContainerRuntime>,
        client: Client,
    ) -> Result<Kubelet, KubeletError> {
        Kubelet::start_with_datasets(config, runtime, client, DatasetSettings::default()).await
    }

    /// [`start`](Self::start), sharing the record of datasets in use with the
    /// transfer service and pulling moves with the kubelets' token.
    pub async fn start_with_datasets(
        config: KubeletConfig,
        runtime: Arc<dyn ContainerRuntime>,
        client: Client,
        dataset_settings: DatasetSettings,
    ) -> Result<Kubelet, KubeletError> {
        let config = Arc::new(config);
        let node_name = config.node_name.clone();
        node::register_node(&client, &config, runtime.as_ref())
            .await
            .map_err(|source| KubeletError::Register { node: node_name.clone(), source })?;
        let heartbeat = node::start_heartbeat(client.clone(), (*config).clone(), Arc::clone(&runtime));
        let cidr = node::wait_for_pod_cidr(&client, &node_name).await;
        let gateway =
            gateway_of(&cidr).ok_or_else(|| KubeletError::PodCidr { node: node_name.clone(), cidr: cidr.clone() })?;
        runtime.ensure_network(&config.pod_network, &cidr, &gateway).await.map_err(|source| KubeletError::Network {
            network: config.pod_network.clone(),
            cidr: cidr.clone(),
            source,
        })?;
        tracing::info!(node = %node_name, %cidr, "node registered; syncing pods");

        let queue = Arc::new(WorkQueue::new());
        let pods = Informer::<Pod>::new(client.clone(), selector(&format!("spec.nodeName={node_name}")))
            .resync_every(config.resync_period)
            .enqueue_into(&queue)
            .start();
        let services = Informer::<Service>::new(client.clone(), ListOptions::default()).start();
        let nodes = Informer::<Node>::new(client.clone(), selector(&format!("metadata.name={node_name}"))).start();
        let dataset_queue = Arc::new(WorkQueue::new());
        let datasets = Informer::<Dataset>::new(client.clone(), ListOptions::default())
            .resync_every(config.resync_period)
            .enqueue_into(&dataset_queue)
            .on_change(wake_dataset_pods(Arc::clone(&pods.store), Arc::clone(&queue)))
            .start();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let probe_queue = Arc::clone(&queue);
        let probes = Arc::new(ProbeManager::new(
            Arc::clone(&runtime),
            Arc::clone(&clock),
            Arc::new(move |key: &str| probe_queue.add(key)),
        ));
        pods.wait_synced().await;
        services.wait_synced().await;
        nodes.wait_synced().await;
        datasets.wait_synced().await;
        count_dataset_users(runtime.as_ref(), &pods.store, &dataset_settings.users).await;
        let client_for_routes = client.clone();
        let syncer = PodSyncer::new(PodSyncerParts {
            config: Arc::clone(&config),
            client,
            runtime: Arc::clone(&runtime),
            pods: Arc::clone(&pods.store),
            services: Arc::clone(&services.store),
            nodes: Arc::clone(&nodes.store),
            datasets: Arc::clone(&datasets.store),
            dataset_users: Arc::clone(&dataset_settings.users),
            queue: Arc::clone(&queue),
            probes,
            clock,
        });
        let syncer = Arc::new(syncer);
        let dataset_holder = datasets::start(
            &config,
            client_for_routes.clone(),
            &dataset_settings,
            &datasets,
            Arc::clone(&dataset_queue),
        );
        let pleg = Pleg::new(runtime, Arc::clone(&pods.store), Arc::clone(&queue), config.relist_period);
        let mut tasks = vec![
            heartbeat,
            tokio::spawn(pleg.run()),
            tokio::spawn(collect_garbage(Arc::clone(&syncer), config.backoff_max)),
            tokio::spawn(run_controller(Arc::clone(&queue), syncer, POD_WORKERS)),
            dataset_holder,
        ];
        if config.pod_routes {
            tasks.push(crate::routes::start(client_for_routes, &node_name, &cidr, config.cluster_cidr.clone()));
        }
        Ok(Kubelet { queue, dataset_queue, tasks })
    }

    /// Stops syncing; running containers are left as they are.
    pub fn stop(self) {
        self.queue.shut_down();
        self.dataset_queue.shut_down();
        for task in self.tasks {
            task.abort();
        }
    }
}

async fn collect_garbage(syncer: Arc<PodSyncer>, period: std::time::Duration) {
    let mut ticks = tokio::time::interval(period.max(std::time::Duration::from_secs(1)));
    loop {
        ticks.tick().await;
        syncer.collect_garbage();
    }
}

/// A dataset that changed may let a pod of this node start (or tell it why not): sync its pods.
fn wake_dataset_pods(pods: Arc<Store<Pod>>, queue: Arc<WorkQueue>) -> impl Fn(&Change<Dataset>) + Send + Sync {
    move |change| {
        let meta = change.object().metadata.clone().unwrap_or_default();
        for pod in datasets::pods_using(&pods.list(), &meta.namespace, &meta.name) {
            queue.add(&object_key(pod.metadata.as_ref().unwrap_or(&Default::default())));
        }
    }
}

/// Counts the datasets of the containers already running (a restarted
/// kubelet) before the transfer service may answer a final pass, those of
/// pods the API no longer has included.
async fn count_dataset_users(runtime: &dyn ContainerRuntime, pods: &Store<Pod>, users: &datasets::DatasetUsers) {
    let mut listing = runtime.list_containers().await;
    for _ in 0..5 {
        if listing.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        listing = runtime.list_containers().await;
    }
    let running = listing.unwrap_or_else(|error| {
        tracing::warn!(%error, "listing containers for the datasets in use; counting them as pods sync");
        Vec::new()
    });
    for pod in pods.list() {
        let (uid, name) = pod.metadata.as_ref().map(|m| (m.uid.as_str(), m.name.as_str())).unwrap_or_default();
        if running.iter().any(|c| c.pod_uid == uid && c.state == crate::runtime::ContainerState::Running) {
            users.start(uid, name, datasets::gate::datasets_of(&pod));
        }
    }
    // Containers of pods deleted while the kubelet was away run until the pod
    // sync removes them; what they mount is not known, so all of their namespace.
    let known: std::collections::HashSet<String> =
        pods.list().iter().filter_map(|p| p.metadata.as_ref().map(|m| m.uid.clone())).collect();
    for c in running.iter().filter(|c| c.state == crate::runtime::ContainerState::Running) {
        if !known.contains(&c.pod_uid) {
            users.start_orphan(&c.pod_uid, &c.namespace, &c.pod_name);
        }
    }
    users.mark_synced();
}

fn selector(field_selector: &str) -> ListOptions {
    ListOptions { field_selector: field_selector.to_string(), ..Default::default() }
}

/// The first address of a CIDR: the bridge's own address, pods get the rest.
fn gateway_of(cidr: &str) -> Option<String> {
    let (address, prefix) = cidr.split_once('/')?;
    let address: std::net::Ipv4Addr = address.parse().ok()?;
    let prefix: u8 = prefix.parse().ok().filter(|p| *p <= 30)?;
    let network = u32::from(address) & (u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0));
    Some(std::net::Ipv4Addr::from(network + 1).to_string())
}

#[cfg(test)]
mod tests {
    use super::gateway_of;

    #[test]
    fn gateway_is_the_first_address_of_the_cidr() {
        assert_eq!(gateway_of("10.244.3.0/24").as_deref(), Some("10.244.3.1"));
        assert_eq!(gateway_of("10.244.3.77/24").as_deref(), Some("10.244.3.1"));
        assert_eq!(gateway_of("10.244.0.0/31"), None);
        assert_eq!(gateway_of("nonsense"), None);
    }
}
