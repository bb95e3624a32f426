//! A pod watch that decodes only what the fan-out benchmark needs from each
//! event: the pod's name. prost skips the other fields without building them,
//! so the bench spends little CPU per delivery (the etcd baseline reads only
//! keys too) and leaves the machine's CPUs to the servers being measured.

use rk_proto::v1::ListOptions;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::Channel;
use tonic::{Status, Streaming};

/// `rk.api.v1.Pods/Watch`, as in api.proto.
const POD_WATCH: &str = "/rk.api.v1.Pods/Watch";

/// PodWatchEvent with only `object` (field 2).
#[derive(Clone, PartialEq, prost::Message)]
pub struct PodNameEvent {
    #[prost(message, optional, tag = "2")]
    pub object: Option<PodName>,
}

/// Pod with only `metadata` (field 3).
#[derive(Clone, PartialEq, prost::Message)]
pub struct PodName {
    #[prost(message, optional, tag = "3")]
    pub metadata: Option<Name>,
}

/// ObjectMeta with only `name` (field 1).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Name {
    #[prost(string, tag = "1")]
    pub name: String,
}

impl PodNameEvent {
    pub fn name(&self) -> &str {
        self.object.as_ref().and_then(|pod| pod.metadata.as_ref()).map_or("", |meta| meta.name.as_str())
    }
}

/// Opens a pod watch whose events decode to [`PodNameEvent`].
pub async fn watch_pod_names(channel: Channel, options: ListOptions) -> Result<Streaming<PodNameEvent>, Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.map_err(|e| Status::unavailable(format!("the apiserver connection is not ready: {e}")))?;
    let codec = tonic_prost::ProstCodec::<ListOptions, PodNameEvent>::default();
    let response =
        grpc.server_streaming(tonic::Request::new(options), PathAndQuery::from_static(POD_WATCH), codec).await?;
    Ok(response.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;
    use rk_proto::v1::{ObjectMeta, Pod};
    use rk_proto::{Resource, WatchEventType};

    #[test]
    fn a_full_pod_event_decodes_to_its_name() {
        let pod = Pod {
            metadata: Some(ObjectMeta { name: "p7".into(), namespace: "bench".into(), ..Default::default() }),
            ..Default::default()
        };
        let event = Pod::watch_event(WatchEventType::Added, pod);
        let decoded = PodNameEvent::decode(event.encode_to_vec().as_slice()).unwrap();
        assert_eq!(decoded.name(), "p7");
    }
}
