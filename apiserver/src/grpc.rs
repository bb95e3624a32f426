//! The gRPC services: one per kind, each a thin typed shell over its registry.

use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::registry::strategy::Strategy;
use crate::registry::Registry;
use futures::{Stream, StreamExt};
use rk_proto::v1::*;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;
use tonic::{Request, Response, Status};

pub type EventStream<E> = Pin<Box<dyn Stream<Item = Result<E, Status>> + Send + 'static>>;

/// The service of one kind.
pub struct Api<R: Strategy> {
    pub registry: Arc<Registry<R>>,
    metrics: Arc<Metrics>,
}

impl<R: Strategy> Api<R> {
    pub fn new(registry: Arc<Registry<R>>, metrics: Arc<Metrics>) -> Self {
        Api { registry, metrics }
    }

    /// Runs one call, recording its latency and outcome.
    async fn call<T>(
        &self,
        verb: &'static str,
        work: impl Future<Output = Result<T, ApiError>>,
    ) -> Result<Response<T>, Status> {
        let started = Instant::now();
        let result = work.await.map_err(Status::from);
        let code = result.as_ref().err().map_or(tonic::Code::Ok, Status::code);
        self.metrics.observe(R::PLURAL, verb, code, started.elapsed());
        result.map(Response::new)
    }

    async fn open_watch(&self, options: ListOptions) -> Result<Response<EventStream<R::WatchEvent>>, Status> {
        let metrics = Arc::clone(&self.metrics);
        self.call("watch", async move {
            let stream = self.registry.watch(&options)?;
            let guard = metrics.watch_started();
            Ok(Box::pin(stream.map(move |event| {
                let _open = &guard;
                event
            })) as EventStream<R::WatchEvent>)
        })
        .await
    }
}

/// Implements a generated service trait for `Api<$kind>`. `with_status` adds
/// UpdateStatus; `$extra` adds kind-specific RPCs. (The RPCs are spelled out
/// here rather than in a nested macro because `async_trait` must see them.)
macro_rules! resource_service {
    ($server:ident :: $service:ident, $kind:ty, $list:ty, $event:ty $(, $with_status:ident)? { $($extra:item)* }) => {
        #[tonic::async_trait]
        impl $server::$service for Api<$kind> {
            type WatchStream = EventStream<$event>;

            async fn create(&self, request: Request<$kind>) -> Result<Response<$kind>, Status> {
                self.call("create", self.registry.create(request.into_inner())).await
            }
            async fn get(&self, request: Request<GetRequest>) -> Result<Response<$kind>, Status> {
                let r = request.into_inner();
                self.call("get", self.registry.get(&r.namespace, &r.name)).await
            }
            async fn list(&self, request: Request<ListOptions>) -> Result<Response<$list>, Status> {
                self.call("list", self.registry.list(&request.into_inner())).await
            }
            async fn watch(&self, request: Request<ListOptions>) -> Result<Response<Self::WatchStream>, Status> {
                self.open_watch(request.into_inner()).await
            }
            async fn update(&self, request: Request<$kind>) -> Result<Response<$kind>, Status> {
                self.call("update", self.registry.update(request.into_inner())).await
            }
            async fn delete(&self, request: Request<DeleteRequest>) -> Result<Response<$kind>, Status> {
                self.call("delete", self.registry.delete(&request.into_inner())).await
            }
            $(
            async fn update_status(&self, request: Request<$kind>) -> Result<Response<$kind>, Status> {
                let _ = stringify!($with_status);
                self.call("update_status", self.registry.update_status(request.into_inner())).await
            }
            )?
            $($extra)*
        }
    };
}

resource_service!(pods_server::Pods, Pod, PodList, PodWatchEvent, with_status {
    async fn bind(&self, request: Request<Binding>) -> Result<Response<Pod>, Status> {
        self.call("bind", self.registry.bind(request.into_inner())).await
    }
});
resource_service!(
    replication_controllers_server::ReplicationControllers,
    ReplicationController,
    ReplicationControllerList,
    ReplicationControllerWatchEvent,
    with_status {}
);
resource_service!(services_server::Services, Service, ServiceList, ServiceWatchEvent, with_status {});
resource_service!(endpoints_service_server::EndpointsService, Endpoints, EndpointsList, EndpointsWatchEvent {});
resource_service!(nodes_server::Nodes, Node, NodeList, NodeWatchEvent, with_status {});
resource_service!(namespaces_server::Namespaces, Namespace, NamespaceList, NamespaceWatchEvent, with_status {});
resource_service!(events_server::Events, Event, EventList, EventWatchEvent {});
resource_service!(datasets_server::Datasets, Dataset, DatasetList, DatasetWatchEvent, with_status {});
