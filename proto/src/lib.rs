//! rk's API: the Kubernetes core/v1 objects as protobuf messages (which are
//! also the Kubernetes JSON/YAML types), the gRPC services of rk-apiserver,
//! and the pure helpers every component shares.

/// Generated code, laid out by protobuf package so cross-package paths resolve.
pub mod rk {
    pub mod api {
        pub mod v1 {
            tonic::include_proto!("rk.api.v1");
        }
    }
    pub mod intstr {
        tonic::include_proto!("rk.intstr");
    }
    pub mod streaming {
        pub mod v1 {
            tonic::include_proto!("rk.streaming.v1");
        }
    }
}

/// The API types: generated messages plus the hand-written watch events.
pub mod v1 {
    pub use crate::rk::api::v1::*;
    pub use crate::watch_event::*;
}
pub use rk::intstr::IntOrString;

pub mod fields;
mod intstr;
pub mod ip_range;
pub mod labels;
pub mod manifest;
pub mod quantity;
pub mod resource;
mod serde_util;
pub mod streaming;
pub mod time;
pub mod watch_event;

pub use manifest::{decode_manifests, DecodeOptions, ManifestError, Object};
pub use resource::{Resource, ResourceList, WatchEventType};

/// The only API version rk serves.
pub const API_VERSION: &str = "v1";

/// The reason the target's kubelet writes on a Moving dataset once it holds a
/// first copy: the dataset controller then stops the pods that wait for a
/// spec.primary move, and the final pass sends only what changed since.
pub const DATASET_FIRST_PASS_DONE: &str = "FirstPassDone";
