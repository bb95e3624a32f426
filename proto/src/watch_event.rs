//! The watch event messages (`PodWatchEvent`, ...), written by hand rather
//! than generated so the apiserver can encode an event once and send the same
//! bytes to every watcher: with a thousand watchers, cloning and encoding the
//! object per watcher was most of the cost of a watch. On the wire they are
//! exactly the messages in api.proto.

use crate::rk::api::v1::*;
use bytes::{Buf, BufMut, Bytes};
use prost::encoding::{message, skip_field, string, DecodeContext, WireType};
use prost::DecodeError;

macro_rules! watch_event {
    ($($event:ident: $kind:ident),* $(,)?) => {$(
        /// A change to an object: `type` is ADDED, MODIFIED or DELETED.
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $event {
            pub r#type: String,
            pub object: Option<$kind>,
            /// The whole message, already encoded; sent as is. Only the apiserver sets it.
            encoded: Option<Bytes>,
        }

        impl $event {
            pub fn new(r#type: &str, object: $kind) -> Self {
                $event { r#type: r#type.to_string(), object: Some(object), encoded: None }
            }

            /// An event to send whose encoding (made with [`encode_watch_event`]) is `encoded`.
            pub fn pre_encoded(encoded: Bytes) -> Self {
                $event { encoded: Some(encoded), ..Default::default() }
            }
        }

        impl prost::Message for $event {
            fn encode_raw(&self, buf: &mut impl BufMut) {
                if let Some(encoded) = &self.encoded {
                    buf.put_slice(encoded);
                    return;
                }
                if !self.r#type.is_empty() {
                    string::encode(1, &self.r#type, buf);
                }
                if let Some(object) = &self.object {
                    message::encode(2, object, buf);
                }
            }

            fn merge_field(
                &mut self,
                tag: u32,
                wire_type: WireType,
                buf: &mut impl Buf,
                ctx: DecodeContext,
            ) -> Result<(), DecodeError> {
                match tag {
                    1 => string::merge(wire_type, &mut self.r#type, buf, ctx),
                    2 => message::merge(wire_type, self.object.get_or_insert_with(Default::default), buf, ctx),
                    _ => skip_field(wire_type, tag, buf, ctx),
                }
            }

            fn encoded_len(&self) -> usize {
                if let Some(encoded) = &self.encoded {
                    return encoded.len();
                }
                let kind = if self.r#type.is_empty() { 0 } else { string::encoded_len(1, &self.r#type) };
                kind + self.object.as_ref().map_or(0, |object| message::encoded_len(2, object))
            }

            fn clear(&mut self) {
                *self = Self::default();
            }
        }
    )*};
}

watch_event!(
    PodWatchEvent: Pod,
    ReplicationControllerWatchEvent: ReplicationController,
    ServiceWatchEvent: Service,
    EndpointsWatchEvent: Endpoints,
    NodeWatchEvent: Node,
    NamespaceWatchEvent: Namespace,
    EventWatchEvent: Event,
    DatasetWatchEvent: Dataset,
);

/// The encoding of a watch event of any kind, given its object already encoded.
pub fn encode_watch_event(r#type: &str, encoded_object: &[u8]) -> Bytes {
    let mut buf = Vec::with_capacity(encoded_object.len() + r#type.len() + 16);
    string::encode(1, &r#type.to_string(), &mut buf);
    prost::encoding::encode_key(2, WireType::LengthDelimited, &mut buf);
    prost::encoding::encode_varint(encoded_object.len() as u64, &mut buf);
    buf.put_slice(encoded_object);
    Bytes::from(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn pre_encoded_events_are_the_same_bytes_as_ordinary_ones() {
        let pod = Pod { metadata: Some(ObjectMeta { name: "web".into(), ..Default::default() }), ..Default::default() };
        let ordinary = PodWatchEvent::new("ADDED", pod.clone()).encode_to_vec();
        let shared = encode_watch_event("ADDED", &pod.encode_to_vec());
        assert_eq!(ordinary, shared.to_vec());
        let sent = PodWatchEvent::pre_encoded(shared.clone());
        assert_eq!(sent.encoded_len(), shared.len());
        assert_eq!(sent.encode_to_vec(), ordinary);
        let received = PodWatchEvent::decode(ordinary.as_slice()).unwrap();
        assert_eq!((received.r#type.as_str(), received.object), ("ADDED", Some(pod)));
    }
}
