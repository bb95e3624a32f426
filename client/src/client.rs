//! The typed gRPC client: `client.list::<Pod>(options)` for any kind.

use rk_proto::v1::*;
use rk_proto::Resource;
use std::time::Duration;
use tonic::transport::{Channel, Endpoint};
use tonic::{Status, Streaming};

/// HTTP/2 flow-control window for responses.
const RECEIVE_WINDOW_BYTES: u32 = 8 << 20;

/// Lists of thousands of objects exceed tonic's 4 MiB default.
const MAX_RESPONSE_BYTES: usize = 512 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{0:?} is not a valid server address (expected host:port or http://host:port)")]
    BadAddress(String),
    #[error(
        "cannot connect to the rk apiserver at {0}: {1} (is it running? `rkctl cluster up` starts a local cluster)"
    )]
    Unreachable(String, String),
}

#[derive(Clone)]
pub struct Client {
    channel: Channel,
}

impl Client {
    /// Connects to `server` (`127.0.0.1:6443` or `http://127.0.0.1:6443`).
    pub async fn connect(server: &str) -> Result<Client, ConnectError> {
        let url = if server.contains("://") { server.to_string() } else { format!("http://{server}") };
        let endpoint = Endpoint::from_shared(url.clone())
            .map_err(|_| ConnectError::BadAddress(server.to_string()))?
            .connect_timeout(Duration::from_secs(5))
            .tcp_nodelay(true)
            // Large lists arrive in one response: HTTP/2's 64 KiB default window
            // would make the server stop and wait for window updates all along.
            .initial_stream_window_size(RECEIVE_WINDOW_BYTES)
            .initial_connection_window_size(RECEIVE_WINDOW_BYTES);
        let channel = endpoint.connect().await.map_err(|e| ConnectError::Unreachable(url, source_chain(&e)))?;
        Ok(Client { channel })
    }

    pub fn from_channel(channel: Channel) -> Client {
        Client { channel }
    }

    /// The connection, for services beyond the per-kind ones (logs and exec).
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    pub async fn create<R: KindClient>(&self, object: R) -> Result<R, Status> {
        R::create(self.channel.clone(), object).await
    }

    pub async fn get<R: KindClient>(&self, namespace: &str, name: &str) -> Result<R, Status> {
        R::get(self.channel.clone(), GetRequest { namespace: namespace.into(), name: name.into() }).await
    }

    pub async fn list<R: KindClient>(&self, options: ListOptions) -> Result<R::List, Status> {
        R::list(self.channel.clone(), options).await
    }

    pub async fn watch<R: KindClient>(&self, options: ListOptions) -> Result<Streaming<R::WatchEvent>, Status> {
        R::watch(self.channel.clone(), options).await
    }

    pub async fn update<R: KindClient>(&self, object: R) -> Result<R, Status> {
        R::update(self.channel.clone(), object).await
    }

    pub async fn update_status<R: KindClient>(&self, object: R) -> Result<R, Status> {
        R::update_status(self.channel.clone(), object).await
    }

    pub async fn delete<R: KindClient>(&self, request: DeleteRequest) -> Result<R, Status> {
        R::delete(self.channel.clone(), request).await
    }

    pub async fn bind(&self, binding: Binding) -> Result<Pod, Status> {
        pods_client::PodsClient::new(self.channel.clone()).bind(binding).await.map(tonic::Response::into_inner)
    }
}

fn source_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}

/// The calls of one kind's gRPC service.
#[tonic::async_trait]
pub trait KindClient: Resource {
    async fn create(channel: Channel, object: Self) -> Result<Self, Status>;
    async fn get(channel: Channel, request: GetRequest) -> Result<Self, Status>;
    async fn list(channel: Channel, options: ListOptions) -> Result<Self::List, Status>;
    async fn watch(channel: Channel, options: ListOptions) -> Result<Streaming<Self::WatchEvent>, Status>;
    async fn update(channel: Channel, object: Self) -> Result<Self, Status>;
    async fn update_status(channel: Channel, object: Self) -> Result<Self, Status>;
    async fn delete(channel: Channel, request: DeleteRequest) -> Result<Self, Status>;
}

macro_rules! kind_client {
    ($scope:ident: $kind:ty, $module:ident :: $client:ident $(, $with_status:ident)?) => {
        mod $scope {
            use super::*;

            /// The generated client, with the response size limit raised.
            fn client(channel: Channel) -> $module::$client<Channel> {
                $module::$client::new(channel).max_decoding_message_size(MAX_RESPONSE_BYTES)
            }

            #[tonic::async_trait]
            impl KindClient for $kind {
                async fn create(channel: Channel, object: Self) -> Result<Self, Status> {
                    Ok(client(channel).create(object).await?.into_inner())
                }
                async fn get(channel: Channel, request: GetRequest) -> Result<Self, Status> {
                    Ok(client(channel).get(request).await?.into_inner())
                }
                async fn list(channel: Channel, options: ListOptions) -> Result<Self::List, Status> {
                    Ok(client(channel).list(options).await?.into_inner())
                }
                async fn watch(channel: Channel, options: ListOptions) -> Result<Streaming<Self::WatchEvent>, Status> {
                    Ok(client(channel).watch(options).await?.into_inner())
                }
                async fn update(channel: Channel, object: Self) -> Result<Self, Status> {
                    Ok(client(channel).update(object).await?.into_inner())
                }
                #[allow(unused_variables, unreachable_code)]
                async fn update_status(channel: Channel, object: Self) -> Result<Self, Status> {
                    $(
                        let _ = stringify!($with_status);
                        return Ok(client(channel).update_status(object).await?.into_inner());
                    )?
                    Err(Status::unimplemented(concat!(stringify!($kind), " has no status")))
                }
                async fn delete(channel: Channel, request: DeleteRequest) -> Result<Self, Status> {
                    Ok(client(channel).delete(request).await?.into_inner())
                }
            }
        }
    };
}

kind_client!(pods: Pod, pods_client::PodsClient, with_status);
kind_client!(replication_controllers: ReplicationController, replication_controllers_client::ReplicationControllersClient, with_status);
kind_client!(services: Service, services_client::ServicesClient, with_status);
kind_client!(endpoints: Endpoints, endpoints_service_client::EndpointsServiceClient);
kind_client!(nodes: Node, nodes_client::NodesClient, with_status);
kind_client!(namespaces: Namespace, namespaces_client::NamespacesClient, with_status);
kind_client!(events: Event, events_client::EventsClient);
kind_client!(datasets: Dataset, datasets_client::DatasetsClient, with_status);
