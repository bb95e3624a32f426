//! Pods on this node: admission, the per-pod sync that makes containers
//! match the spec, graceful termination, and the status written back.

pub mod admission;
pub mod containers;
mod dataset_gate;
mod image;
pub mod spec;
mod start;
pub mod status;
pub mod sync;
mod terminate;
pub mod volumes;
mod waiting;

pub use sync::{PodSyncer, PodSyncerParts};
