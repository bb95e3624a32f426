//! Leader election, as Kubernetes did it before Lease objects: a record in an
//! annotation of an Endpoints object, taken and renewed with compare-and-swap
//! updates. One instance leads; others stand by and take over when the
//! leader's record has not been renewed for a lease duration.

use crate::client::Client;
use rk_proto::v1::{Endpoints, ObjectMeta};
use rk_proto::Resource;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tonic::Code;

/// The annotation Kubernetes' endpoints-based leader election used.
pub const LEADER_ANNOTATION: &str = "control-plane.alpha.kubernetes.io/leader";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
struct LeaderRecord {
    holder_identity: String,
    lease_duration_seconds: i64,
    acquire_time: String,
    renew_time: String,
}

#[derive(Clone)]
pub struct LeaderElection {
    pub client: Client,
    /// Namespace and name of the Endpoints object holding the record.
    pub namespace: String,
    pub name: String,
    /// Unique per instance, e.g. `hostname_pid`.
    pub identity: String,
    pub lease: Duration,
    /// How often the leader renews and candidates retry.
    pub retry: Duration,
}

impl LeaderElection {
    /// Waits until this instance leads. Then keeps renewing in the background
    /// for as long as the returned receiver is kept; it turns `true` if
    /// leadership is lost, after which the component must stop (Kubernetes
    /// components exit). Dropping it stops renewing, handing over after a lease.
    pub async fn acquire(self) -> tokio::sync::watch::Receiver<bool> {
        loop {
            match self.try_acquire_or_renew().await {
                Ok(true) => break,
                Ok(false) => {}
                Err(status) => tracing::warn!(%status, "leader election: could not read or write the record"),
            }
            tokio::time::sleep(self.retry).await;
        }
        tracing::info!(identity = %self.identity, lock = %self.name, "became leader");
        let (lost_tx, lost) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            let mut last_renewal = tokio::time::Instant::now();
            loop {
                tokio::time::sleep(self.retry).await;
                if lost_tx.is_closed() {
                    return;
                }
                match self.try_acquire_or_renew().await {
                    Ok(true) => last_renewal = tokio::time::Instant::now(),
                    Ok(false) => break,
                    Err(status) if last_renewal.elapsed() < self.lease => {
                        tracing::warn!(%status, "leader election: renewal failed; retrying")
                    }
                    Err(_) => break,
                }
            }
            tracing::error!(identity = %self.identity, "lost leadership");
            lost_tx.send_replace(true);
        });
        lost
    }

    /// True if this instance holds the record after the call.
    async fn try_acquire_or_renew(&self) -> Result<bool, tonic::Status> {
        let now = chrono::Utc::now();
        let mine = |acquire_time: String| LeaderRecord {
            holder_identity: self.identity.clone(),
            lease_duration_seconds: self.lease.as_secs() as i64,
            acquire_time,
            renew_time: rk_proto::time::format(now),
        };
        let mut endpoints = match self.client.get::<Endpoints>(&self.namespace, &self.name).await {
            Ok(endpoints) => endpoints,
            Err(status) if status.code() == Code::NotFound => {
                let mut fresh = Endpoints {
                    metadata: Some(ObjectMeta {
                        name: self.name.clone(),
                        namespace: self.namespace.clone(),
                        ..Default::default()
                    }),
                    ..Default::default()
                };
                let record = serde_json::to_string(&mine(rk_proto::time::format(now))).expect("record serializes");
                fresh.metadata_mut().annotations.insert(LEADER_ANNOTATION.into(), record);
                return match self.client.create(fresh).await {
                    Ok(_) => Ok(true),
                    Err(status) if status.code() == Code::AlreadyExists => Ok(false),
                    Err(status) => Err(status),
                };
            }
            Err(status) => return Err(status),
        };
        let current: Option<LeaderRecord> =
            endpoints.metadata().annotations.get(LEADER_ANNOTATION).and_then(|text| serde_json::from_str(text).ok());
        let acquire_time = match &current {
            Some(record) if record.holder_identity == self.identity => record.acquire_time.clone(),
            Some(record) if !expired(record, now) => return Ok(false),
            _ => rk_proto::time::format(now),
        };
        let record = serde_json::to_string(&mine(acquire_time)).expect("record serializes");
        endpoints.metadata_mut().annotations.insert(LEADER_ANNOTATION.into(), record);
        match self.client.update(endpoints).await {
            Ok(_) => Ok(true),
            // Someone else wrote first: they lead (or renewed); look again next round.
            Err(status) if status.code() == Code::Aborted => Ok(false),
            Err(status) => Err(status),
        }
    }
}

fn expired(record: &LeaderRecord, now: chrono::DateTime<chrono::Utc>) -> bool {
    match rk_proto::time::parse(&record.renew_time) {
        Some(renewed) => renewed + chrono::Duration::seconds(record.lease_duration_seconds) < now,
        None => true,
    }
}
