//! Checks on object metadata that every kind shares.

use super::common::{check_name, Errors, NameFormat};
use crate::registry::field_error::FieldError;
use rk_proto::labels::{validate_label_key, validate_label_value};
use rk_proto::Resource;
use std::collections::BTreeMap;

/// Kubernetes' limit on the total size of an object's annotations (keys and values).
const ANNOTATIONS_MAX_BYTES: usize = 256 * 1024;

/// Name, namespace, labels and annotations of a new object. The registry has
/// already turned generateName into a name and filled a missing namespace with
/// "default", so both are simply required here.
pub(crate) fn validate_meta<T: Resource>(obj: &T, name_format: NameFormat) -> Errors {
    let mut errs = Errors::new();
    let meta = obj.metadata();
    if meta.name.is_empty() {
        errs.push(FieldError::new("metadata.name", "Required value: name or generateName is required"));
    } else {
        check_name(&mut errs, "metadata.name", &meta.name, name_format);
    }
    if T::NAMESPACED {
        check_name(&mut errs, "metadata.namespace", &meta.namespace, NameFormat::Dns1123Label);
    } else if !meta.namespace.is_empty() {
        errs.push(FieldError::new(
            "metadata.namespace",
            format!("Forbidden: not allowed on {}, which is not namespaced", T::KIND),
        ));
    }
    validate_labels(&mut errs, "metadata.labels", &meta.labels);
    validate_annotations(&mut errs, "metadata.annotations", &meta.annotations);
    errs
}

/// Label keys and values (also used for selectors and node selectors).
pub(crate) fn validate_labels(errs: &mut Errors, field: &str, labels: &BTreeMap<String, String>) {
    for (key, value) in labels {
        if let Err(why) = validate_label_key(key) {
            errs.push(FieldError::invalid(field, key, why));
        }
        if let Err(why) = validate_label_value(value) {
            errs.push(FieldError::invalid(field, value, why));
        }
    }
}

/// Annotation keys follow the label key rules; values are free text, but all of
/// them together are limited so an object stays small enough for etcd.
pub(crate) fn validate_annotations(errs: &mut Errors, field: &str, annotations: &BTreeMap<String, String>) {
    for key in annotations.keys() {
        if let Err(why) = validate_label_key(key) {
            errs.push(FieldError::invalid(field, key, why));
        }
    }
    let size: usize = annotations.iter().map(|(k, v)| k.len() + v.len()).sum();
    if size > ANNOTATIONS_MAX_BYTES {
        errs.push(FieldError::new(field, format!("Too long: must have at most {ANNOTATIONS_MAX_BYTES} bytes")));
    }
}

/// The metadata an update may not change. The registry copies uid and
/// creationTimestamp from the stored object into an update that leaves them
/// out, so a difference here is a real attempt to change them.
pub(crate) fn validate_meta_update<T: Resource>(new: &T, old: &T) -> Errors {
    let (new, old) = (new.metadata(), old.metadata());
    [
        ("metadata.name", &new.name, &old.name),
        ("metadata.namespace", &new.namespace, &old.namespace),
        ("metadata.uid", &new.uid, &old.uid),
        ("metadata.creationTimestamp", &new.creation_timestamp, &old.creation_timestamp),
    ]
    .into_iter()
    .filter(|(_, new, old)| new != old)
    .map(|(field, _, _)| FieldError::immutable(field))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::validation::testing::fields;
    use rk_proto::v1::{Namespace, ObjectMeta, Pod};

    fn pod(meta: ObjectMeta) -> Pod {
        Pod { metadata: Some(meta), ..Default::default() }
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn valid_metadata_passes() {
        let meta = ObjectMeta {
            name: "web-1.example".into(),
            namespace: "default".into(),
            labels: labels(&[("app", "web"), ("example.com/tier", "")]),
            annotations: labels(&[("example.com/note", "any text at all: {}")]),
            ..Default::default()
        };
        assert_eq!(validate_meta(&pod(meta), NameFormat::Dns1123Subdomain), []);
        let ns = Namespace {
            metadata: Some(ObjectMeta { name: "team-a".into(), ..Default::default() }),
            ..Default::default()
        };
        assert_eq!(validate_meta(&ns, NameFormat::Dns1123Label), []);
    }

    #[test]
    fn every_metadata_problem_is_reported() {
        let meta = ObjectMeta {
            name: "Web_1".into(),
            namespace: "".into(),
            labels: labels(&[("bad key", "ok"), ("app", "not ok!")]),
            annotations: labels(&[("/x", "v")]),
            ..Default::default()
        };
        let errs = validate_meta(&pod(meta), NameFormat::Dns1123Subdomain);
        assert_eq!(
            fields(&errs),
            ["metadata.name", "metadata.namespace", "metadata.labels", "metadata.labels", "metadata.annotations"]
        );
        assert!(errs[0].message.contains("RFC 1123 subdomain"));
        assert_eq!(errs[1].message, "Required value");
        assert!(errs.iter().any(|e| e.message.contains("\"not ok!\"")));
    }

    #[test]
    fn name_is_required_and_namespace_forbidden_on_cluster_scoped_kinds() {
        let ns = Namespace {
            metadata: Some(ObjectMeta { namespace: "default".into(), ..Default::default() }),
            ..Default::default()
        };
        let errs = validate_meta(&ns, NameFormat::Dns1123Label);
        assert_eq!(fields(&errs), ["metadata.name", "metadata.namespace"]);
        assert!(errs[0].message.contains("name or generateName is required"));
        assert!(errs[1].message.starts_with("Forbidden"));
    }

    #[test]
    fn annotations_are_limited_in_total_size() {
        let big = labels(&[("a", &"x".repeat(200 * 1024)), ("b", &"x".repeat(100 * 1024))]);
        let mut errs = Errors::new();
        validate_annotations(&mut errs, "metadata.annotations", &big);
        assert_eq!(errs.len(), 1);
        assert!(errs[0].message.contains("at most 262144 bytes"));
    }

    #[test]
    fn identity_metadata_is_immutable() {
        let old = pod(ObjectMeta {
            name: "web".into(),
            namespace: "default".into(),
            uid: "u1".into(),
            creation_timestamp: "2024-01-01T00:00:00Z".into(),
            ..Default::default()
        });
        let mut new = old.clone();
        new.metadata_mut().labels = labels(&[("app", "web")]);
        assert_eq!(validate_meta_update(&new, &old), []);
        new.metadata_mut().uid = "u2".into();
        new.metadata_mut().name = "web2".into();
        assert_eq!(
            validate_meta_update(&new, &old).iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["metadata.name: field is immutable", "metadata.uid: field is immutable"]
        );
    }
}
