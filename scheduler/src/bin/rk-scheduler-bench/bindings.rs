//! When each pod was first seen bound, through a watch (an informer), as any
//! client of the apiserver would see it.

use rk_client::{Change, Client, Informer, InformerHandle};
use rk_proto::v1::{ListOptions, Pod};
use rk_proto::Resource;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Bindings {
    seen: Arc<Mutex<HashMap<String, Instant>>>,
    informer: InformerHandle<Pod>,
}

impl Bindings {
    pub async fn watch(client: &Client) -> Bindings {
        let seen: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
        let informer = Informer::<Pod>::new(client.clone(), ListOptions::default())
            .on_change({
                let seen = Arc::clone(&seen);
                move |change: &Change<Pod>| {
                    let pod = change.object();
                    if pod.spec.as_ref().is_some_and(|spec| !spec.node_name.is_empty()) {
                        seen.lock().unwrap().entry(pod.metadata().name.clone()).or_insert_with(Instant::now);
                    }
                }
            })
            .start();
        informer.wait_synced().await;
        Bindings { seen, informer }
    }

    /// When `pod` was first seen bound.
    pub fn bound_at(&self, pod: &str) -> Option<Instant> {
        self.seen.lock().unwrap().get(pod).copied()
    }

    /// Waits until the watch has seen `count` pods, bound or not; returns when
    /// it noticed (within 5 ms), or an error after `within`.
    pub async fn wait_for_pods(&self, count: usize, within: Duration) -> anyhow::Result<Instant> {
        let deadline = Instant::now() + within;
        loop {
            let pods = self.informer.store.len();
            if pods >= count {
                return Ok(Instant::now());
            }
            if Instant::now() >= deadline {
                anyhow::bail!("only {pods} of {count} pods exist after {within:?}");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// When the last pod seen bound so far was.
    pub fn last_bound(&self) -> Option<Instant> {
        self.seen.lock().unwrap().values().max().copied()
    }

    /// Waits until `count` pods were seen bound; an error after `within` says how many were.
    pub async fn wait_for(&self, count: usize, within: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + within;
        loop {
            let bound = self.seen.lock().unwrap().len();
            if bound >= count {
                return Ok(());
            }
            if Instant::now() >= deadline {
                anyhow::bail!(
                    "only {bound} of {count} pods bound after {within:?} ({} pods watched)",
                    self.informer.store.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}
