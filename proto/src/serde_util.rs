//! Helpers referenced from the serde attributes that build.rs attaches.

/// Kubernetes leaves unset and empty fields out of its JSON; so do we.
pub(crate) fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}
