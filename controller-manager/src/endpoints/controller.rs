//! The endpoints controller's reconcile: make the Service's Endpoints object
//! list the pods it selects, writing only when something changed.

use super::selection::managed_selector;
use super::subsets::subsets;
use async_trait::async_trait;
use rk_client::leader::LEADER_ANNOTATION;
use rk_client::{Action, Client, Reconciler, Store};
use rk_proto::v1::{DeleteRequest, Endpoints, ObjectMeta, Pod, Preconditions, Service};
use rk_proto::Resource;
use std::sync::Arc;
use tonic::Code;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub struct EndpointsController {
    client: Client,
    services: Arc<Store<Service>>,
    pods: Arc<Store<Pod>>,
    endpoints: Arc<Store<Endpoints>>,
}

impl EndpointsController {
    pub fn new(
        client: Client,
        services: Arc<Store<Service>>,
        pods: Arc<Store<Pod>>,
        endpoints: Arc<Store<Endpoints>>,
    ) -> Self {
        EndpointsController { client, services, pods, endpoints }
    }

    /// The Service is gone: so are its Endpoints. An Endpoints object used as
    /// a leader-election lock has no Service and is left alone.
    async fn delete(&self, key: &str) -> Result<Action, BoxError> {
        let Some(endpoints) = self.endpoints.get(key) else { return Ok(Action::Done) };
        let meta = endpoints.metadata();
        if meta.annotations.contains_key(LEADER_ANNOTATION) {
            return Ok(Action::Done);
        }
        let request = DeleteRequest {
            namespace: meta.namespace.clone(),
            name: meta.name.clone(),
            preconditions: Some(Preconditions { uid: meta.uid.clone(), resource_version: String::new() }),
            ..Default::default()
        };
        match self.client.delete::<Endpoints>(request).await {
            Err(status) if status.code() != Code::NotFound => Err(status.into()),
            _ => Ok(Action::Done),
        }
    }
}

#[async_trait]
impl Reconciler for EndpointsController {
    fn name(&self) -> &'static str {
        "endpoints"
    }

    async fn reconcile(&self, key: &str) -> Result<Action, BoxError> {
        let Some(service) = self.services.get(key) else { return self.delete(key).await };
        let Some(selector) = managed_selector(&service) else { return Ok(Action::Done) };
        let meta = service.metadata();
        let pods: Vec<Arc<Pod>> = self
            .pods
            .list()
            .into_iter()
            .filter(|pod| pod.metadata().namespace == meta.namespace && selector.matches(&pod.metadata().labels))
            .collect();
        let subsets = subsets(&service, &pods);
        match self.endpoints.get(key) {
            Some(current) if current.subsets == subsets && current.metadata().labels == meta.labels => {}
            Some(current) => {
                let mut updated = (*current).clone();
                updated.subsets = subsets;
                updated.metadata_mut().labels.clone_from(&meta.labels);
                self.client.update(updated).await?;
            }
            None => {
                let endpoints = Endpoints {
                    metadata: Some(ObjectMeta {
                        name: meta.name.clone(),
                        namespace: meta.namespace.clone(),
                        labels: meta.labels.clone(),
                        ..Default::default()
                    }),
                    subsets,
                    ..Default::default()
                };
                self.client.create(endpoints).await?;
            }
        }
        Ok(Action::Done)
    }
}
