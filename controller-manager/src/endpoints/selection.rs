//! Which Services have their Endpoints kept by this controller, and which pods they select.

use rk_client::{object_key, Store};
use rk_proto::labels::LabelSelector;
use rk_proto::v1::{Pod, Service};
use rk_proto::Resource;

/// The selector of a Service whose Endpoints this controller keeps; None for a
/// Service without a selector, whose Endpoints are written by someone else.
pub fn managed_selector(service: &Service) -> Option<LabelSelector> {
    let selector = &service.spec.as_ref()?.selector;
    (!selector.is_empty()).then(|| LabelSelector::from_map(selector))
}

/// Keys of the Services in the pod's namespace whose selector matches the pod.
pub fn services_selecting(services: &Store<Service>, pod: &Pod) -> Vec<String> {
    let meta = pod.metadata();
    services
        .list()
        .into_iter()
        .filter(|service| service.metadata().namespace == meta.namespace)
        .filter(|service| managed_selector(service).is_some_and(|selector| selector.matches(&meta.labels)))
        .map(|service| object_key(service.metadata()))
        .collect()
}
