//! Per-kind rules (defaults, validation, update semantics) and the generic
//! registry that applies them on top of storage.

pub mod allocator;
mod binding;
pub mod codec;
pub mod field_error;
mod generic;
pub mod hooks;
mod keys;
mod list;
pub mod namespace_hooks;
pub mod pod_hooks;
pub mod service_hooks;
pub mod strategy;
mod validation;

pub use generic::{Registry, MAX_OBJECT_BYTES, ORPHAN_FINALIZER};
