//! An informer keeps a local copy of the objects of one kind: it lists, then
//! watches from the list's resourceVersion, applies every event to its store
//! and tells its handlers. When the apiserver says the resourceVersion is too
//! old (OUT_OF_RANGE) it relists, and tells the handlers what changed in
//! between, so nothing is missed. A periodic resync re-announces every object,
//! which lets level-triggered controllers repair anything they got wrong.

use crate::client::{Client, KindClient};
use crate::workqueue::WorkQueue;
use futures::StreamExt;
use rk_proto::v1::{ListOptions, ObjectMeta};
use rk_proto::{ResourceList, WatchEventType};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::watch;
use tonic::Code;

/// `namespace/name`, or `name` for cluster-scoped objects: the key stores and work queues use.
pub fn object_key(meta: &ObjectMeta) -> String {
    if meta.namespace.is_empty() {
        meta.name.clone()
    } else {
        format!("{}/{}", meta.namespace, meta.name)
    }
}

/// The objects an informer has seen, by [`object_key`].
pub struct Store<R> {
    objects: RwLock<HashMap<String, Arc<R>>>,
}

impl<R> Default for Store<R> {
    fn default() -> Self {
        Store { objects: RwLock::new(HashMap::new()) }
    }
}

impl<R> Store<R> {
    pub fn get(&self, key: &str) -> Option<Arc<R>> {
        self.objects.read().unwrap().get(key).cloned()
    }

    pub fn list(&self) -> Vec<Arc<R>> {
        self.objects.read().unwrap().values().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.objects.read().unwrap().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What happened to an object, as an informer's handlers see it.
#[derive(Debug, Clone)]
pub enum Change<R> {
    Added(Arc<R>),
    /// Also sent with `old == new` on every resync.
    Updated {
        old: Arc<R>,
        new: Arc<R>,
    },
    Deleted(Arc<R>),
}

impl<R> Change<R> {
    /// The object as it is now (or was when deleted).
    pub fn object(&self) -> &Arc<R> {
        match self {
            Change::Added(o) | Change::Deleted(o) | Change::Updated { new: o, .. } => o,
        }
    }
}

type Handler<R> = Box<dyn Fn(&Change<R>) + Send + Sync>;

/// Builds and runs an informer: `Informer::new(client, options).on_change(f).start()`.
pub struct Informer<R: KindClient> {
    client: Client,
    options: ListOptions,
    resync: Option<Duration>,
    handlers: Vec<Handler<R>>,
}

/// A running informer: its store, and whether it has finished its first list.
pub struct InformerHandle<R> {
    pub store: Arc<Store<R>>,
    synced: watch::Receiver<bool>,
}

impl<R> Clone for InformerHandle<R> {
    fn clone(&self) -> Self {
        InformerHandle { store: Arc::clone(&self.store), synced: self.synced.clone() }
    }
}

impl<R> InformerHandle<R> {
    /// Waits until the first list has been applied to the store.
    pub async fn wait_synced(&self) {
        let mut synced = self.synced.clone();
        let _ = synced.wait_for(|s| *s).await;
    }
}

impl<R: KindClient> Informer<R> {
    /// Informs about the objects `options` selects (namespace, label and field selectors).
    pub fn new(client: Client, options: ListOptions) -> Self {
        Informer { client, options, resync: None, handlers: Vec::new() }
    }

    /// Re-announces every object this often.
    pub fn resync_every(mut self, period: Duration) -> Self {
        self.resync = Some(period);
        self
    }

    pub fn on_change(mut self, handler: impl Fn(&Change<R>) + Send + Sync + 'static) -> Self {
        self.handlers.push(Box::new(handler));
        self
    }

    /// Queues the key of every changed object: the usual handler of a controller's own kind.
    pub fn enqueue_into(self, queue: &Arc<WorkQueue>) -> Self {
        let queue = Arc::clone(queue);
        self.on_change(move |change| queue.add(&object_key(change.object().metadata())))
    }

    /// Starts listing and watching in the background for as long as the process runs.
    pub fn start(self) -> InformerHandle<R> {
        let store = Arc::new(Store::default());
        let (synced_tx, synced) = watch::channel(false);
        let handle = InformerHandle { store: Arc::clone(&store), synced };
        tokio::spawn(run(self, store, synced_tx));
        handle
    }
}

async fn run<R: KindClient>(informer: Informer<R>, store: Arc<Store<R>>, synced: watch::Sender<bool>) {
    let mut resync = informer.resync.map(|period| {
        let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval
    });
    let mut backoff = Duration::from_millis(100);
    loop {
        let resource_version = match relist(&informer, &store).await {
            Ok(rv) => rv,
            Err(status) => {
                tracing::warn!(kind = R::KIND, %status, "list failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
                continue;
            }
        };
        backoff = Duration::from_millis(100);
        synced.send_replace(true);
        watch_from(&informer, &store, resource_version, &mut resync).await;
    }
}

/// Lists, replaces the store, and tells the handlers the difference. Returns the list's resourceVersion.
async fn relist<R: KindClient>(informer: &Informer<R>, store: &Store<R>) -> Result<String, tonic::Status> {
    let list = informer.client.list::<R>(informer.options.clone()).await?;
    let resource_version = list.list_meta().resource_version;
    let fresh: HashMap<String, Arc<R>> =
        list.into_items().into_iter().map(|o| (object_key(o.metadata()), Arc::new(o))).collect();
    let mut changes = Vec::new();
    {
        let mut objects = store.objects.write().unwrap();
        for (key, old) in objects.iter() {
            if !fresh.contains_key(key) {
                changes.push(Change::Deleted(Arc::clone(old)));
            }
        }
        for (key, new) in &fresh {
            match objects.get(key) {
                None => changes.push(Change::Added(Arc::clone(new))),
                Some(old) if old.metadata().resource_version != new.metadata().resource_version => {
                    changes.push(Change::Updated { old: Arc::clone(old), new: Arc::clone(new) })
                }
                Some(_) => {}
            }
        }
        *objects = fresh;
    }
    notify(informer, &changes);
    Ok(resource_version)
}

/// Watches until the stream fails; returns when a relist is needed.
async fn watch_from<R: KindClient>(
    informer: &Informer<R>,
    store: &Store<R>,
    mut resource_version: String,
    resync: &mut Option<tokio::time::Interval>,
) {
    loop {
        let options = ListOptions { resource_version: resource_version.clone(), ..informer.options.clone() };
        let mut stream = match informer.client.watch::<R>(options).await {
            Ok(stream) => stream,
            Err(status) if status.code() == Code::OutOfRange => return,
            Err(status) => {
                tracing::warn!(kind = R::KIND, %status, "watch failed; relisting");
                tokio::time::sleep(Duration::from_millis(200)).await;
                return;
            }
        };
        loop {
            let next = async {
                match resync.as_mut() {
                    Some(interval) => tokio::select! {
                        event = stream.next() => Some(event),
                        _ = interval.tick() => None,
                    },
                    None => Some(stream.next().await),
                }
            };
            match next.await {
                None => notify(informer, &resync_changes(store)),
                Some(Some(Ok(event))) => {
                    let (kind, object) = R::into_watch_parts(event);
                    let (Some(kind), Some(object)) = (WatchEventType::parse(&kind), object) else { continue };
                    resource_version = object.metadata().resource_version.clone();
                    let change = apply(store, kind, object);
                    notify(informer, std::slice::from_ref(&change));
                }
                Some(Some(Err(status))) if status.code() == Code::OutOfRange => return,
                // The stream broke (apiserver restart, network): resume from the last event.
                Some(Some(Err(_))) | Some(None) => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    break;
                }
            }
        }
    }
}

fn apply<R: KindClient>(store: &Store<R>, kind: WatchEventType, object: R) -> Change<R> {
    let key = object_key(object.metadata());
    let object = Arc::new(object);
    let mut objects = store.objects.write().unwrap();
    match kind {
        WatchEventType::Deleted => {
            objects.remove(&key);
            Change::Deleted(object)
        }
        WatchEventType::Added | WatchEventType::Modified => match objects.insert(key, Arc::clone(&object)) {
            Some(old) => Change::Updated { old, new: object },
            None => Change::Added(object),
        },
    }
}

fn resync_changes<R>(store: &Store<R>) -> Vec<Change<R>> {
    store.list().into_iter().map(|o| Change::Updated { old: Arc::clone(&o), new: o }).collect()
}

fn notify<R: KindClient>(informer: &Informer<R>, changes: &[Change<R>]) {
    for change in changes {
        for handler in &informer.handlers {
            handler(change);
        }
    }
}
