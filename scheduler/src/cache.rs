//! The scheduler's picture of the cluster: nodes with the pods on them, fed
//! by informers, plus *assumed* pods. A pod counts on its node from the moment
//! the scheduler picks the node, before the bind reaches the apiserver and
//! long before the watch reports it, so a burst of pods never overcommits a
//! node. An assumed pod the watch never confirms (within the TTL after its
//! bind succeeded) is dropped again.

use crate::node_info::{NodeInfo, NodeUsage};
use crate::pod_usage::PodUsage;
use crate::service_index::ServiceIndex;
use crate::spread_key::SpreadKey;
use rk_client::object_key;
use rk_proto::v1::{Node, Pod, Service};
use rk_proto::Resource;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PodState {
    /// Seen bound by the informer.
    Bound,
    /// Placed by this scheduler; the bind is in flight.
    Binding,
    /// Bound by this scheduler; dropped at `expires` unless the informer confirms it.
    Assumed { expires: Instant },
}

struct CachedPod {
    pod: Arc<Pod>,
    node: String,
    usage: PodUsage,
    state: PodState,
}

pub struct Cache {
    /// Nodes with their Node object, in no particular order.
    nodes: Vec<NodeInfo>,
    node_index: HashMap<String, usize>,
    /// Pods on nodes the cache has no Node object for (not seen yet, or deleted).
    unknown_node_usage: HashMap<String, NodeUsage>,
    pods: HashMap<String, CachedPod>,
    services: ServiceIndex,
    assumed_ttl: Duration,
}

impl Cache {
    pub fn new(assumed_ttl: Duration) -> Cache {
        Cache {
            nodes: Vec::new(),
            node_index: HashMap::new(),
            unknown_node_usage: HashMap::new(),
            pods: HashMap::new(),
            services: ServiceIndex::default(),
            assumed_ttl,
        }
    }

    pub fn nodes(&self) -> &[NodeInfo] {
        &self.nodes
    }

    pub fn node(&self, name: &str) -> Option<&NodeInfo> {
        self.node_index.get(name).map(|&i| &self.nodes[i])
    }

    /// Adds or replaces the node. True if that could let a pod fit that did
    /// not before: the node is new, or its labels, allocatable resources or
    /// readiness changed (a heartbeat alone changes none of these).
    pub fn set_node(&mut self, node: Arc<Node>) -> bool {
        let name = node.metadata.as_ref().map(|meta| meta.name.clone()).unwrap_or_default();
        match self.node_index.get(&name) {
            Some(&index) => {
                let updated = NodeInfo::new(node, std::mem::take(&mut self.nodes[index].usage));
                let old = &self.nodes[index];
                let labels = |info: &NodeInfo| info.node().metadata.as_ref().map(|meta| meta.labels.clone());
                let changed = old.readiness() != updated.readiness()
                    || old.allocatable() != updated.allocatable()
                    || labels(old) != labels(&updated);
                self.nodes[index] = updated;
                changed
            }
            None => {
                let usage = self.unknown_node_usage.remove(&name).unwrap_or_default();
                self.node_index.insert(name, self.nodes.len());
                self.nodes.push(NodeInfo::new(node, usage));
                true
            }
        }
    }

    /// Forgets the node; its pods stay accounted for in case it comes back.
    pub fn remove_node(&mut self, name: &str) {
        let Some(index) = self.node_index.remove(name) else { return };
        let removed = self.nodes.swap_remove(index);
        if let Some(moved) = self.nodes.get(index) {
            self.node_index.insert(moved.name().to_string(), index);
        }
        if !removed.usage.is_empty() {
            self.unknown_node_usage.insert(name.to_string(), removed.usage);
        }
    }

    /// What the pod would take from a node, spread keys of its Services included.
    pub fn usage_of(&self, pod: &Pod) -> PodUsage {
        let mut usage = PodUsage::new(pod);
        usage.spread_keys.extend(self.services.selecting(pod).map(SpreadKey::of));
        usage
    }

    /// Records a pod the informer saw bound, confirming it if it was assumed
    /// (on whichever node it was really bound to).
    pub fn add_pod(&mut self, pod: Arc<Pod>) {
        let key = object_key(pod.metadata());
        if let Some(cached) = self.pods.get(&key) {
            // A resync re-announces every pod: nothing to do for one already counted.
            if cached.state == PodState::Bound
                && cached.pod.metadata().resource_version == pod.metadata().resource_version
            {
                return;
            }
        }
        let node = pod.spec.as_ref().map(|spec| spec.node_name.clone()).unwrap_or_default();
        let usage = self.usage_of(&pod);
        self.insert(key, CachedPod { pod, node, usage, state: PodState::Bound });
    }

    /// Counts the pod on `node` before its bind is sent.
    pub fn assume(&mut self, pod: Arc<Pod>, node: &str, usage: PodUsage) {
        let key = object_key(pod.metadata());
        self.insert(key, CachedPod { pod, node: node.to_string(), usage, state: PodState::Binding });
    }

    /// The bind of an assumed pod succeeded: the informer has `assumed_ttl` to confirm it.
    pub fn finish_binding(&mut self, key: &str, now: Instant) {
        if let Some(cached) = self.pods.get_mut(key) {
            if cached.state == PodState::Binding {
                cached.state = PodState::Assumed { expires: now + self.assumed_ttl };
            }
        }
    }

    /// The bind of an assumed pod failed: stop counting it (a pod the
    /// informer already saw bound stays).
    pub fn forget(&mut self, key: &str) {
        if self.pods.get(key).is_some_and(|cached| cached.state != PodState::Bound) {
            self.remove_pod(key);
        }
    }

    pub fn is_assumed(&self, key: &str) -> bool {
        self.pods.get(key).is_some_and(|cached| cached.state != PodState::Bound)
    }

    /// Stops counting the pod (deleted or finished); true if it was counted.
    pub fn remove_pod(&mut self, key: &str) -> bool {
        let Some(cached) = self.pods.remove(key) else { return false };
        self.usage_on(&cached.node).remove(&cached.usage);
        self.drop_if_unknown_and_empty(&cached.node);
        true
    }

    /// Drops assumed pods whose confirmation is overdue; returns their keys.
    pub fn expire(&mut self, now: Instant) -> Vec<String> {
        let overdue: Vec<String> = self
            .pods
            .iter()
            .filter(|(_, cached)| matches!(cached.state, PodState::Assumed { expires } if expires <= now))
            .map(|(key, _)| key.clone())
            .collect();
        for key in &overdue {
            self.remove_pod(key);
        }
        overdue
    }

    /// Records the Service's selector and re-counts the spread keys of the
    /// pods of its namespace if it changed.
    pub fn set_service(&mut self, service: &Service) {
        if self.services.set(service) {
            self.recount_spread_keys(service);
        }
    }

    pub fn remove_service(&mut self, service: &Service) {
        if self.services.remove(service) {
            self.recount_spread_keys(service);
        }
    }

    fn recount_spread_keys(&mut self, service: &Service) {
        let namespace = service.metadata.as_ref().map_or("", |meta| meta.namespace.as_str());
        let keys: Vec<String> = self
            .pods
            .iter()
            .filter(|(_, cached)| cached.pod.metadata.as_ref().is_some_and(|meta| meta.namespace == namespace))
            .map(|(key, _)| key.clone())
            .collect();
        for key in keys {
            let cached = self.pods.remove(&key).expect("key listed above");
            self.usage_on(&cached.node).remove(&cached.usage);
            let usage = self.usage_of(&cached.pod);
            self.insert(key, CachedPod { usage, ..cached });
        }
    }

    fn insert(&mut self, key: String, pod: CachedPod) {
        self.remove_pod(&key);
        self.usage_on(&pod.node).add(&pod.usage);
        self.pods.insert(key, pod);
    }

    fn usage_on(&mut self, node: &str) -> &mut NodeUsage {
        match self.node_index.get(node) {
            Some(&index) => &mut self.nodes[index].usage,
            None => self.unknown_node_usage.entry(node.to_string()).or_default(),
        }
    }

    fn drop_if_unknown_and_empty(&mut self, node: &str) {
        if self.unknown_node_usage.get(node).is_some_and(NodeUsage::is_empty) {
            self.unknown_node_usage.remove(node);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{bound_to, labelled_node, node, owned_by, pod};
    use rk_proto::v1::{ObjectMeta, ServiceSpec};

    const TTL: Duration = Duration::from_secs(30);

    fn cache_with_node() -> Cache {
        let mut cache = Cache::new(TTL);
        assert!(cache.set_node(Arc::new(node("n1", &[("cpu", "2"), ("pods", "10")]))));
        cache
    }

    fn cpu_on(cache: &Cache, node: &str) -> i64 {
        cache.node(node).unwrap().usage.requested.milli_cpu
    }

    fn assume(cache: &mut Cache, pod: &Pod, node: &str) {
        let usage = cache.usage_of(pod);
        cache.assume(Arc::new(pod.clone()), node, usage);
    }

    #[test]
    fn an_assumed_pod_counts_at_once_and_is_confirmed_by_the_informer() {
        let mut cache = cache_with_node();
        let web = pod("web", &[("cpu", "1")], &[]);
        assume(&mut cache, &web, "n1");
        assert_eq!(cpu_on(&cache, "n1"), 1000);
        assert!(cache.is_assumed("default/web"));
        cache.finish_binding("default/web", Instant::now());
        cache.add_pod(Arc::new(bound_to(web, "n1")));
        assert!(!cache.is_assumed("default/web"));
        assert_eq!(cpu_on(&cache, "n1"), 1000, "counted once");
        assert!(cache.expire(Instant::now() + TTL * 2).is_empty(), "a confirmed pod never expires");
    }

    #[test]
    fn an_unconfirmed_assumed_pod_expires_after_its_bind_plus_the_ttl() {
        let mut cache = cache_with_node();
        assume(&mut cache, &pod("web", &[("cpu", "1")], &[]), "n1");
        let start = Instant::now();
        assert!(cache.expire(start + TTL * 2).is_empty(), "no expiry while the bind is in flight");
        cache.finish_binding("default/web", start);
        assert!(cache.expire(start + TTL - Duration::from_millis(1)).is_empty());
        assert_eq!(cache.expire(start + TTL), ["default/web"]);
        assert_eq!(cpu_on(&cache, "n1"), 0);
    }

    #[test]
    fn a_failed_bind_is_forgotten_but_a_pod_seen_bound_stays() {
        let mut cache = cache_with_node();
        assume(&mut cache, &pod("web", &[("cpu", "1")], &[]), "n1");
        cache.forget("default/web");
        assert_eq!(cpu_on(&cache, "n1"), 0);
        cache.add_pod(Arc::new(bound_to(pod("web", &[("cpu", "1")], &[]), "n1")));
        cache.forget("default/web");
        assert_eq!(cpu_on(&cache, "n1"), 1000);
    }

    #[test]
    fn a_pod_bound_elsewhere_by_another_scheduler_moves_to_that_node() {
        let mut cache = cache_with_node();
        cache.set_node(Arc::new(node("n2", &[("cpu", "2"), ("pods", "10")])));
        let web = pod("web", &[("cpu", "1")], &[]);
        assume(&mut cache, &web, "n1");
        cache.add_pod(Arc::new(bound_to(web, "n2")));
        assert_eq!((cpu_on(&cache, "n1"), cpu_on(&cache, "n2")), (0, 1000));
    }

    #[test]
    fn pods_on_unknown_nodes_count_once_the_node_appears_and_survive_its_removal() {
        let mut cache = Cache::new(TTL);
        cache.add_pod(Arc::new(bound_to(pod("web", &[("cpu", "1")], &[]), "later")));
        cache.set_node(Arc::new(node("later", &[("cpu", "2")])));
        cache.set_node(Arc::new(node("other", &[("cpu", "2")])));
        assert_eq!(cpu_on(&cache, "later"), 1000);
        cache.remove_node("later");
        assert_eq!(cache.nodes().len(), 1);
        assert_eq!(cache.node("other").unwrap().name(), "other", "the index follows the moved node");
        cache.set_node(Arc::new(node("later", &[("cpu", "2")])));
        assert_eq!(cpu_on(&cache, "later"), 1000);
        assert!(cache.remove_pod("default/web"));
        assert_eq!(cpu_on(&cache, "later"), 0);
    }

    #[test]
    fn only_scheduling_relevant_node_changes_count_as_changes() {
        let mut cache = cache_with_node();
        let mut heartbeat = node("n1", &[("cpu", "2"), ("pods", "10")]);
        heartbeat.status.as_mut().unwrap().conditions[0].last_heartbeat_time = "2026-01-01T00:00:00Z".into();
        assert!(!cache.set_node(Arc::new(heartbeat)));
        assert!(cache.set_node(Arc::new(labelled_node("n1", &[("disktype", "ssd")], &[("cpu", "2"), ("pods", "10")]))));
        assert!(cache.set_node(Arc::new(labelled_node("n1", &[("disktype", "ssd")], &[("cpu", "4"), ("pods", "10")]))));
        let mut cordoned = labelled_node("n1", &[("disktype", "ssd")], &[("cpu", "4"), ("pods", "10")]);
        cordoned.spec.get_or_insert_with(Default::default).unschedulable = true;
        assert!(cache.set_node(Arc::new(cordoned)));
    }

    #[test]
    fn services_add_spread_keys_to_the_pods_they_select() {
        let mut cache = cache_with_node();
        let mut web = owned_by(bound_to(pod("web", &[], &[]), "n1"), "rc");
        web.metadata.as_mut().unwrap().labels.insert("app".into(), "web".into());
        cache.add_pod(Arc::new(web.clone()));
        let service = Service {
            metadata: Some(ObjectMeta { namespace: "default".into(), uid: "svc".into(), ..Default::default() }),
            spec: Some(ServiceSpec { selector: [("app".into(), "web".into())].into(), ..Default::default() }),
            ..Default::default()
        };
        cache.set_service(&service);
        let (rc, svc) = (SpreadKey::of("rc"), SpreadKey::of("svc"));
        let counts = &cache.node("n1").unwrap().usage.spread_counts;
        assert_eq!((counts[&rc], counts[&svc]), (1, 1));
        assert_eq!(cache.usage_of(&web).spread_keys, [rc, svc]);
        cache.remove_service(&service);
        assert!(!cache.node("n1").unwrap().usage.spread_counts.contains_key(&svc));
    }
}
