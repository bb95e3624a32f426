//! One pod watch on the bench's namespace, read by a background task that
//! notes when each pod was first seen, bound, Running and deleted. The
//! measurements end at these instants: what a client of the apiserver sees.

use anyhow::{bail, Context};
use rk_client::Client;
use rk_proto::v1::{ListOptions, Pod};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// What the watch saw of one pod (by uid).
#[derive(Debug, Clone)]
pub struct Seen {
    pub name: String,
    pub added: Instant,
    pub bound: Option<Instant>,
    pub running: Option<Instant>,
    pub deleting: bool,
    pub deleted: Option<Instant>,
}

impl Seen {
    /// Running and not on its way out.
    pub fn live(&self) -> bool {
        self.running.is_some() && !self.deleting && self.deleted.is_none()
    }
}

pub type Pods = HashMap<String, Seen>;

pub struct PodWatch {
    pods: Arc<Mutex<Pods>>,
    /// Bumped on every event (and when the watch fails, with the error set).
    changed: watch::Receiver<u64>,
    failed: Arc<Mutex<Option<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl PodWatch {
    /// Watches the pods of `namespace` from now on (from a LIST's revision,
    /// so no event between the two is missed).
    pub async fn start(client: &Client, namespace: &str) -> anyhow::Result<PodWatch> {
        let options = ListOptions { namespace: namespace.into(), ..Default::default() };
        let list = client.list::<Pod>(options.clone()).await.context("listing pods before watching")?;
        let revision = list.metadata.map(|m| m.resource_version).unwrap_or_default();
        let mut stream = client
            .watch::<Pod>(ListOptions { resource_version: revision, ..options })
            .await
            .context("watching pods")?;
        let pods = Arc::new(Mutex::new(Pods::new()));
        let failed = Arc::new(Mutex::new(None));
        let (tx, changed) = watch::channel(0u64);
        let (task_pods, task_failed) = (Arc::clone(&pods), Arc::clone(&failed));
        let task = tokio::spawn(async move {
            let error = loop {
                match stream.message().await {
                    Ok(Some(event)) => {
                        let Some(pod) = event.object else { continue };
                        note(&mut task_pods.lock().unwrap(), &event.r#type, &pod, Instant::now());
                        tx.send_modify(|n| *n += 1);
                    }
                    Ok(None) => break "the pod watch ended".to_string(),
                    Err(status) => break format!("the pod watch failed: {status}"),
                }
            };
            *task_failed.lock().unwrap() = Some(error);
            tx.send_modify(|n| *n += 1);
        });
        Ok(PodWatch { pods, changed, failed, task })
    }

    /// A copy of what was seen so far.
    pub fn snapshot(&self) -> Pods {
        self.pods.lock().unwrap().clone()
    }

    /// Waits until `check` finds what it looks for in the pods seen, at most
    /// `timeout`; the error names `what` was awaited.
    pub async fn wait_for<T>(
        &self,
        what: &str,
        timeout: Duration,
        check: impl Fn(&Pods) -> Option<T>,
    ) -> anyhow::Result<T> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut changed = self.changed.clone();
        loop {
            changed.borrow_and_update();
            if let Some(found) = check(&self.pods.lock().unwrap()) {
                return Ok(found);
            }
            if let Some(error) = self.failed.lock().unwrap().clone() {
                bail!("waiting for {what}: {error}");
            }
            if tokio::time::timeout_at(deadline, changed.changed()).await.is_err() {
                bail!("{what} did not happen within {timeout:?}");
            }
        }
    }

    /// When pod `name` (its latest incarnation) was seen Running.
    pub async fn running(&self, name: &str, timeout: Duration) -> anyhow::Result<Seen> {
        self.wait_for(&format!("pod {name} Running"), timeout, |pods| {
            pods.values().find(|seen| seen.name == name && seen.running.is_some() && seen.deleted.is_none()).cloned()
        })
        .await
    }
}

impl Drop for PodWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn note(pods: &mut Pods, kind: &str, pod: &Pod, now: Instant) {
    let Some(meta) = &pod.metadata else { return };
    let seen = pods.entry(meta.uid.clone()).or_insert_with(|| Seen {
        name: meta.name.clone(),
        added: now,
        bound: None,
        running: None,
        deleting: false,
        deleted: None,
    });
    let bound = pod.spec.as_ref().is_some_and(|spec| !spec.node_name.is_empty());
    let running = pod.status.as_ref().is_some_and(|status| status.phase == "Running");
    if bound && seen.bound.is_none() {
        seen.bound = Some(now);
    }
    if running && seen.running.is_none() {
        seen.running = Some(now);
    }
    seen.deleting |= !meta.deletion_timestamp.is_empty();
    if kind == "DELETED" {
        seen.deleted.get_or_insert(now);
    }
}
