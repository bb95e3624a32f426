//! The garbage collector: owner references drive deletion. A dependent whose
//! owners are all gone is deleted (background cascade), and an owner deleted
//! with `--cascade=orphan` first lets go of its dependents.
//!
//! Informers for every kind feed one ownership [`graph`]; two work queues of
//! `Kind/namespace/name` keys drive the [`collector`] (dependents to check)
//! and the [`orphaner`] (owners to orphan). Decisions are re-checked against
//! the API, so a cache that lags never gets an object deleted.

mod collector;
mod graph;
mod object_ref;
mod orphaner;

use crate::ControllerContext;
use collector::Collector;
use futures::future::BoxFuture;
use futures::FutureExt;
use graph::Graph;
use object_ref::ObjectRef;
use orphaner::{Orphaner, ORPHAN_FINALIZER};
use rk_client::{run_controller, Change, Informer, KindClient, WorkQueue};
use rk_proto::manifest::KINDS;
use rk_proto::v1::ListOptions;
use rk_proto::{with_kind, Resource};
use std::sync::Arc;

/// Dependents are checked (and deleted) concurrently, as an owner often has many.
const COLLECTOR_WORKERS: usize = 4;
const ORPHANER_WORKERS: usize = 1;

/// What the informers' handlers update.
struct Shared {
    graph: Arc<Graph>,
    /// Dependents that may have lost their owners.
    collect: Arc<WorkQueue>,
    /// Owners waiting to orphan their dependents.
    orphan: Arc<WorkQueue>,
}

impl Shared {
    fn on_change<R: Resource>(&self, change: &Change<R>) {
        match change {
            Change::Added(object) => self.observe(object.as_ref()),
            Change::Updated { old, new } => {
                if old.metadata().uid != new.metadata().uid {
                    self.vanished(old.as_ref());
                }
                self.observe(new.as_ref());
            }
            Change::Deleted(object) => self.vanished(object.as_ref()),
        }
    }

    fn observe<R: Resource>(&self, object: &R) {
        let meta = object.metadata();
        let reference = ObjectRef::of(object);
        let key = reference.to_string();
        self.graph.observe(reference, &meta.uid, &meta.owner_references);
        if meta.deletion_timestamp.is_empty() {
            if !meta.owner_references.is_empty() {
                self.collect.add(&key);
            }
        } else if meta.finalizers.iter().any(|f| f == ORPHAN_FINALIZER) {
            self.orphan.add(&key);
        }
    }

    fn vanished<R: Resource>(&self, object: &R) {
        for dependent in self.graph.forget(&ObjectRef::of(object), &object.metadata().uid) {
            self.collect.add(&dependent.to_string());
        }
    }
}

/// Starts an informer for `R` feeding `shared`; the future resolves once it has listed.
fn inform<R: KindClient>(ctx: &ControllerContext, shared: &Arc<Shared>) -> BoxFuture<'static, ()> {
    let shared = Arc::clone(shared);
    let handle = Informer::<R>::new(ctx.client.clone(), ListOptions::default())
        .resync_every(ctx.settings.resync)
        .on_change(move |change| shared.on_change(change))
        .start();
    async move { handle.wait_synced().await }.boxed()
}

/// Starts the informers and, once they have listed, the workers.
pub fn start(ctx: &ControllerContext) {
    let graph = Arc::new(Graph::default());
    let shared = Arc::new(Shared {
        graph: Arc::clone(&graph),
        collect: Arc::new(WorkQueue::new()),
        orphan: Arc::new(WorkQueue::new()),
    });
    let synced: Vec<_> = KINDS
        .iter()
        .map(|kind| with_kind!(*kind, R => inform::<R>(ctx, &shared), otherwise unreachable!("KINDS are served")))
        .collect();
    let collector = Arc::new(Collector { client: ctx.client.clone(), graph });
    let orphaner = Arc::new(Orphaner { client: ctx.client.clone() });
    tokio::spawn(async move {
        // A graph missing owners would send every dependent to the API at once.
        futures::future::join_all(synced).await;
        tokio::join!(
            run_controller(Arc::clone(&shared.collect), collector, COLLECTOR_WORKERS),
            run_controller(Arc::clone(&shared.orphan), orphaner, ORPHANER_WORKERS),
        );
    });
}
