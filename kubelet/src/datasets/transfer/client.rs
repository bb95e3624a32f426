//! The pulling kubelet's client: a DatasetTransfer client that presents the
//! shared streaming token on every call and accepts chunk-sized messages.

use super::MAX_MESSAGE_SIZE;
use rk_proto::streaming::dataset_transfer_client::DatasetTransferClient;
use tonic::metadata::AsciiMetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::service::Interceptor;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Status};

/// Adds `authorization: Bearer <token>` to every call.
#[derive(Clone)]
pub struct BearerToken(Option<AsciiMetadataValue>);

impl BearerToken {
    /// An empty token sends no header at all.
    pub fn new(token: &str) -> BearerToken {
        BearerToken((!token.is_empty()).then(|| format!("Bearer {token}").parse().ok()).flatten())
    }
}

impl Interceptor for BearerToken {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(value) = &self.0 {
            request.metadata_mut().insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// The client [`super::pull`] takes.
pub type TransferClient = DatasetTransferClient<InterceptedService<Channel, BearerToken>>;

/// A client on `channel` presenting `token`.
pub fn with_token(channel: Channel, token: &str) -> TransferClient {
    DatasetTransferClient::with_interceptor(channel, BearerToken::new(token))
        .max_decoding_message_size(MAX_MESSAGE_SIZE)
        .max_encoding_message_size(MAX_MESSAGE_SIZE)
}

/// Connects to a source kubelet's streaming endpoint (`http://IP:PORT`).
pub async fn connect(endpoint: &str, token: &str) -> Result<TransferClient, tonic::transport::Error> {
    let channel = Endpoint::from_shared(endpoint.to_string())?
        .tcp_nodelay(true)
        .initial_stream_window_size(Some(8 << 20))
        .initial_connection_window_size(Some(32 << 20))
        .connect()
        .await?;
    Ok(with_token(channel, token))
}
