//! Per-kind rules (defaults, validation, update semantics) and the generic
//! registry that applies them on top of storage.

pub mod field_error;
pub mod strategy;
mod validation;
