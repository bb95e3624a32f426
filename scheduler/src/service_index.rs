//! The selectors of the cluster's Services, so the cache can tell which
//! Services select a pod (their pods should spread across nodes).

use rk_proto::v1::{Pod, Service};
use std::collections::{BTreeMap, HashMap};

/// Service selectors by namespace, then by Service uid.
#[derive(Debug, Default)]
pub struct ServiceIndex {
    by_namespace: HashMap<String, HashMap<String, BTreeMap<String, String>>>,
}

impl ServiceIndex {
    /// Records the Service's selector; true if that changed what it selects.
    /// A Service without a selector selects no pods.
    pub fn set(&mut self, service: &Service) -> bool {
        let (namespace, uid) = identity(service);
        let selector = service.spec.as_ref().map(|spec| spec.selector.clone()).unwrap_or_default();
        let services = self.by_namespace.entry(namespace.to_string()).or_default();
        if selector.is_empty() {
            return services.remove(uid).is_some();
        }
        services.insert(uid.to_string(), selector.clone()) != Some(selector)
    }

    /// Forgets the Service; true if it selected pods.
    pub fn remove(&mut self, service: &Service) -> bool {
        let (namespace, uid) = identity(service);
        self.by_namespace.get_mut(namespace).is_some_and(|services| services.remove(uid).is_some())
    }

    /// The uids of the Services selecting the pod.
    pub fn selecting<'a>(&'a self, pod: &'a Pod) -> impl Iterator<Item = &'a str> + 'a {
        let meta = pod.metadata.as_ref();
        let namespace = meta.map_or("", |meta| meta.namespace.as_str());
        let labels = meta.map(|meta| &meta.labels);
        self.by_namespace.get(namespace).into_iter().flatten().filter_map(move |(uid, selector)| {
            let selected = selector.iter().all(|(k, v)| labels.and_then(|labels| labels.get(k)) == Some(v));
            selected.then_some(uid.as_str())
        })
    }
}

fn identity(service: &Service) -> (&str, &str) {
    service.metadata.as_ref().map_or(("", ""), |meta| (meta.namespace.as_str(), meta.uid.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::pod;
    use rk_proto::v1::{ObjectMeta, ServiceSpec};

    fn service(namespace: &str, uid: &str, selector: &[(&str, &str)]) -> Service {
        Service {
            metadata: Some(ObjectMeta { namespace: namespace.into(), uid: uid.into(), ..Default::default() }),
            spec: Some(ServiceSpec {
                selector: selector.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn services_select_pods_of_their_namespace_by_labels() {
        let mut index = ServiceIndex::default();
        assert!(index.set(&service("default", "web", &[("app", "web")])));
        assert!(!index.set(&service("default", "web", &[("app", "web")])), "unchanged");
        assert!(!index.set(&service("default", "headless", &[])));
        assert!(index.set(&service("other", "elsewhere", &[("app", "web")])));
        let mut web = pod("web-1", &[], &[]);
        web.metadata.as_mut().unwrap().labels.insert("app".into(), "web".into());
        assert_eq!(index.selecting(&web).collect::<Vec<_>>(), ["web"]);
        assert_eq!(index.selecting(&pod("db", &[], &[])).count(), 0);
        assert!(index.remove(&service("default", "web", &[])));
        assert_eq!(index.selecting(&web).count(), 0);
    }
}
