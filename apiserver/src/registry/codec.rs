//! Objects are stored as protobuf; their resourceVersion is not stored but
//! taken from the key's mod revision when read.

use crate::storage::Revision;
use rk_proto::Resource;

pub fn encode<R: Resource>(object: &R) -> Vec<u8> {
    let mut stored = object.clone();
    stored.metadata_mut().resource_version.clear();
    stored.encode_to_vec()
}

pub fn decode<R: Resource>(bytes: &[u8], revision: Revision) -> Result<R, prost::DecodeError> {
    let mut object = R::decode(bytes)?;
    object.metadata_mut().resource_version = revision.to_string();
    object.set_type_meta();
    Ok(object)
}
