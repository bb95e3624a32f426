//! What differs between kinds when they are created and updated: defaults,
//! validation, and which part of an object an update may change.
//! Generic metadata handling (uid, timestamps, generateName, resourceVersion)
//! lives in the registry; everything kind-specific is here.

use super::field_error::FieldError;
use super::validation::validate_meta_update;
use rk_proto::Resource;

pub trait Strategy: Resource {
    /// Fills the defaults Kubernetes v1 fills (restartPolicy Always, protocol TCP, ...).
    fn apply_defaults(&mut self);

    /// Every problem with a new object, each naming its field path. Metadata
    /// (name, labels, annotations) is validated here too.
    fn validate(&self) -> Vec<FieldError>;

    /// Every problem with replacing `old` by `self`: `validate`, the metadata
    /// that may not change, then the kind's own update rules.
    fn validate_update(&self, old: &Self) -> Vec<FieldError> {
        let mut errs = self.validate();
        errs.extend(validate_meta_update(self, old));
        self.validate_kind_update(old, &mut errs);
        errs
    }

    /// The kind's fields that may not change (or only in some ways) in an
    /// update, added to `errs`. None by default.
    fn validate_kind_update(&self, _old: &Self, _errs: &mut Vec<FieldError>) {}

    /// Whether the spec differs, which bumps metadata.generation.
    fn spec_changed(&self, old: &Self) -> bool;

    /// An ordinary update keeps the stored status: copy it from `old`.
    fn keep_status(&mut self, old: &Self);

    /// A status update keeps the stored spec: copy it from `old`.
    fn keep_spec(&mut self, old: &Self);
}
