//! The replication controller's reconcile: claim the pods, create or delete
//! pods until exactly spec.replicas are active, and report the status.

use super::claim::claim_pods;
use super::expectations::Expectations;
use super::pod_control::PodControl;
use super::pod_state::is_active;
use super::ranking::pods_to_delete;
use super::slow_start::slow_start_batch;
use super::status;
use async_trait::async_trait;
use rk_client::{object_key, Action, Client, Reconciler, Store};
use rk_proto::v1::{Pod, ReplicationController, ReplicationControllerStatus};
use rk_proto::Resource;
use std::sync::Arc;
use std::time::Duration;
use tonic::{Code, Status};

/// At most this many pods are created or deleted per reconcile, like
/// Kubernetes' burstReplicas; the rest follow once these are observed.
pub const BURST_REPLICAS: usize = 500;

pub struct ReplicationManager {
    client: Client,
    pod_control: PodControl,
    controllers: Arc<Store<ReplicationController>>,
    pods: Arc<Store<Pod>>,
    expectations: Arc<Expectations>,
}

impl ReplicationManager {
    pub fn new(
        client: Client,
        pod_control: PodControl,
        controllers: Arc<Store<ReplicationController>>,
        pods: Arc<Store<Pod>>,
        expectations: Arc<Expectations>,
    ) -> Self {
        ReplicationManager { client, pod_control, controllers, pods, expectations }
    }

    /// Creates or deletes pods so that `pods` (the active pods `rc` controls) become spec.replicas.
    async fn manage(&self, key: &str, rc: &ReplicationController, pods: &[Arc<Pod>]) -> Result<(), Status> {
        let wanted = rc.spec.as_ref().and_then(|spec| spec.replicas).unwrap_or(1).max(0) as usize;
        if pods.len() < wanted {
            self.create(key, rc, (wanted - pods.len()).min(BURST_REPLICAS)).await
        } else if pods.len() > wanted {
            self.delete(key, rc, pods_to_delete(pods, (pods.len() - wanted).min(BURST_REPLICAS))).await
        } else {
            Ok(())
        }
    }

    async fn create(&self, key: &str, rc: &ReplicationController, count: usize) -> Result<(), Status> {
        self.expectations.expect_creations(key, count);
        let (created, error) = slow_start_batch(count, || self.pod_control.create(rc)).await;
        // Pods that were not created will never be observed.
        self.expectations.creations_observed(key, count - created);
        error.map_or(Ok(()), Err)
    }

    async fn delete(&self, key: &str, rc: &ReplicationController, victims: Vec<Arc<Pod>>) -> Result<(), Status> {
        self.expectations.expect_deletions(key, victims.iter().map(|pod| object_key(pod.metadata())));
        let deletions = victims.iter().map(|pod| async move {
            let result = self.pod_control.delete(rc, pod).await;
            if result.is_err() {
                // Failed (or already gone): no deletion event is coming for it.
                self.expectations.deletion_observed(key, &object_key(pod.metadata()));
            }
            result
        });
        let results = futures::future::join_all(deletions).await;
        match results.into_iter().find_map(|result| result.err().filter(|error| error.code() != Code::NotFound)) {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// When to look again although nothing changes: when unmet expectations
    /// expire, or when ready pods become available after minReadySeconds.
    fn next_look(&self, key: &str, rc: &ReplicationController, status: &ReplicationControllerStatus) -> Action {
        let min_ready_seconds = rc.spec.as_ref().map_or(0, |spec| spec.min_ready_seconds);
        let availability = (min_ready_seconds > 0 && status.ready_replicas != status.available_replicas)
            .then(|| Duration::from_secs(min_ready_seconds as u64));
        match [self.expectations.time_left(key), availability].into_iter().flatten().min() {
            Some(delay) => Action::RequeueAfter(delay),
            None => Action::Done,
        }
    }
}

#[async_trait]
impl Reconciler for ReplicationManager {
    fn name(&self) -> &'static str {
        "replication-controller"
    }

    async fn reconcile(&self, key: &str) -> Result<Action, Box<dyn std::error::Error + Send + Sync>> {
        let Some(rc) = self.controllers.get(key) else { return Ok(Action::Done) };
        // Asked before the pods are listed: a pod observed after this is in the list.
        let may_act = self.expectations.satisfied(key);
        let namespace = &rc.metadata().namespace;
        let active = self
            .pods
            .list()
            .into_iter()
            .filter(|pod| pod.metadata().namespace == *namespace && is_active(pod))
            .collect();
        let pods = claim_pods(&self.client, &rc, active).await?;
        let managed = if may_act && rc.metadata().deletion_timestamp.is_empty() {
            self.manage(key, &rc, &pods).await
        } else {
            Ok(())
        };
        let status = status::compute(&rc, &pods, chrono::Utc::now());
        status::update(&self.client, &rc, status).await?;
        managed?;
        Ok(self.next_look(key, &rc, &status))
    }
}
