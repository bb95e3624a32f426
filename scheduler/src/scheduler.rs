//! The scheduler: informers feed the cache and the queue; one loop takes pods
//! from the queue, places each in a scheduling cycle and hands the bind to a
//! task of its own, so the next cycle starts without waiting for the
//! apiserver.

use crate::algorithm::Algorithm;
use crate::binder::bind;
use crate::cache::Cache;
use crate::error::SchedulerError;
use crate::handlers::{on_dataset_change, on_node_change, on_pod_change, on_service_change};
use crate::metrics::Metrics;
use crate::options::{Options, LEADER_LOCK_NAME, LEADER_LOCK_NAMESPACE};
use crate::plugins::dataset_placement::placement;
use crate::plugins::{PodInfo, Profile};
use crate::pod_usage::is_terminated;
use crate::queue::SchedulingQueue;
use crate::report::report_unschedulable;
use rk_client::leader::LeaderElection;
use rk_client::{Change, Client, EventRecorder, Informer, InformerHandle, KindClient, Store};
use rk_proto::v1::{Dataset, ListOptions, Node, Pod, Service};
use rk_proto::Resource;
use std::convert::Infallible;
use std::future::Future;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// The name events report as their source: Kubernetes' scheduler profile name,
/// which `describe` shows in its From column.
pub const COMPONENT: &str = "default-scheduler";

/// How often assumed pods are checked for expiry.
const EXPIRY_CHECK_PERIOD: Duration = Duration::from_secs(1);

/// What the scheduling loop, the bind tasks and the informer handlers share.
pub struct Shared {
    pub client: Client,
    pub cache: Mutex<Cache>,
    pub queue: SchedulingQueue,
    pub recorder: EventRecorder,
    pub metrics: Arc<Metrics>,
}

pub struct Scheduler {
    client: Client,
    options: Options,
    metrics: Arc<Metrics>,
}

impl Scheduler {
    pub fn new(client: Client, options: Options) -> Scheduler {
        Scheduler { client, options, metrics: Arc::default() }
    }

    pub fn metrics(&self) -> Arc<Metrics> {
        Arc::clone(&self.metrics)
    }

    /// Schedules until `shutdown` completes (Ok) or, with leader election,
    /// until leadership is lost (Err: the process should exit, as Kubernetes
    /// components do, and let the new leader work alone).
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), SchedulerError> {
        tokio::pin!(shutdown);
        let lost = match &self.options.leader_election {
            Some(election) => {
                let election = LeaderElection {
                    client: self.client.clone(),
                    namespace: LEADER_LOCK_NAMESPACE.into(),
                    name: LEADER_LOCK_NAME.into(),
                    identity: election.identity.clone(),
                    lease: election.lease,
                    retry: election.retry,
                };
                tokio::select! {
                    _ = &mut shutdown => return Ok(()),
                    lost = election.acquire() => Some(lost),
                }
            }
            None => None,
        };
        let leadership_lost = async {
            match lost {
                Some(mut lost) => drop(lost.wait_for(|lost| *lost).await),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = shutdown => Ok(()),
            _ = leadership_lost => Err(SchedulerError::LostLeadership {
                namespace: LEADER_LOCK_NAMESPACE.into(),
                name: LEADER_LOCK_NAME.into(),
            }),
            never = self.schedule() => match never {},
        }
    }

    async fn schedule(&self) -> Infallible {
        let options = &self.options;
        let shared = Arc::new(Shared {
            client: self.client.clone(),
            cache: Mutex::new(Cache::new(options.assumed_pod_ttl)),
            queue: SchedulingQueue::new(options.initial_backoff, options.max_backoff),
            recorder: EventRecorder::new(self.client.clone(), COMPONENT, ""),
            metrics: Arc::clone(&self.metrics),
        });
        let resync = options.resync_period;
        let nodes = inform::<Node>(&self.client, resync, on_node_change(Arc::clone(&shared)));
        let pods = inform::<Pod>(&self.client, resync, on_pod_change(Arc::clone(&shared)));
        let services = inform::<Service>(&self.client, resync, on_service_change(Arc::clone(&shared)));
        let datasets = inform::<Dataset>(&self.client, resync, on_dataset_change(Arc::clone(&shared)));
        // Every bound pod must be counted before the first placement.
        tokio::join!(nodes.wait_synced(), pods.wait_synced(), services.wait_synced(), datasets.wait_synced());
        tracing::info!(nodes = nodes.store.len(), pods = pods.store.len(), "caches synced; scheduling");
        tokio::select! {
            never = expire_assumed_pods(&shared) => never,
            never = scheduling_loop(&shared, &pods.store, &datasets.store, options) => never,
        }
    }
}

/// Starts an informer over every object of kind `R`.
fn inform<R: KindClient>(
    client: &Client,
    resync: Duration,
    handler: impl Fn(&Change<R>) + Send + Sync + 'static,
) -> InformerHandle<R> {
    Informer::new(client.clone(), ListOptions::default()).resync_every(resync).on_change(handler).start()
}

async fn expire_assumed_pods(shared: &Shared) -> Infallible {
    let mut tick = tokio::time::interval(EXPIRY_CHECK_PERIOD);
    loop {
        tick.tick().await;
        let expired = shared.cache.lock().unwrap().expire(Instant::now());
        if !expired.is_empty() {
            tracing::warn!(pods = ?expired, "bound pods never confirmed by the watch; no longer counted");
            shared.queue.move_all();
        }
    }
}

async fn scheduling_loop(
    shared: &Arc<Shared>,
    pods: &Store<Pod>,
    datasets: &Store<Dataset>,
    options: &Options,
) -> Infallible {
    let mut algorithm = Algorithm::new(Profile::default(), options.percentage_of_nodes_to_score);
    let binds = Arc::new(Semaphore::new(options.bind_concurrency.max(1)));
    loop {
        let key = shared.queue.pop().await;
        let Some(pod) = pods.get(&key).filter(|pod| needs_node(pod)) else {
            shared.queue.done(&key);
            continue;
        };
        let placement = {
            let mut cache = shared.cache.lock().unwrap();
            if cache.is_assumed(&key) {
                // Bound by us; the watch has not caught up yet.
                drop(cache);
                shared.queue.done(&key);
                continue;
            }
            shared.metrics.attempts.fetch_add(1, Relaxed);
            let usage = cache.usage_of(&pod);
            let wishes = placement(&pod, |namespace, name| datasets.get(&format!("{namespace}/{name}")));
            let chosen = algorithm.schedule(PodInfo::new(&pod, &usage).with_datasets(&wishes), cache.nodes());
            chosen.map(|index| {
                let node = cache.nodes()[index].name().to_string();
                cache.assume(Arc::clone(&pod), &node, usage);
                node
            })
        };
        match placement {
            Ok(node) => {
                let permit = Arc::clone(&binds).acquire_owned().await.expect("the semaphore is never closed");
                let shared = Arc::clone(shared);
                tokio::spawn(async move {
                    bind(shared, key, pod, node).await;
                    drop(permit);
                });
            }
            Err(fit_error) => {
                shared.metrics.unschedulable.fetch_add(1, Relaxed);
                shared.queue.failed(&key);
                let message = fit_error.to_string();
                tracing::debug!(pod = %key, %message, "no node fits");
                let shared = Arc::clone(shared);
                tokio::spawn(async move { report_unschedulable(&shared.client, &shared.recorder, pod, message).await });
            }
        }
    }
}

/// Whether the pod (as the informer last saw it) still waits for a node.
fn needs_node(pod: &Pod) -> bool {
    let unbound = pod.spec.as_ref().is_some_and(|spec| spec.node_name.is_empty());
    unbound && pod.metadata().deletion_timestamp.is_empty() && !is_terminated(pod)
}
