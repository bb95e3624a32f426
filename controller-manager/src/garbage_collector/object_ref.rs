//! How the garbage collector names an object: kind, namespace and name, also
//! as the work-queue key `Kind/namespace/name` (namespace empty when cluster-scoped).

use rk_proto::v1::OwnerReference;
use rk_proto::{with_kind, Resource};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectRef {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl ObjectRef {
    pub fn of<R: Resource>(object: &R) -> Self {
        let meta = object.metadata();
        ObjectRef { kind: R::KIND.into(), namespace: meta.namespace.clone(), name: meta.name.clone() }
    }

    /// The object `reference`, held by an object in `namespace`, points to: an
    /// owner of a cluster-scoped kind has no namespace. None for a kind rk does not serve.
    pub fn owner(reference: &OwnerReference, namespace: &str) -> Option<Self> {
        let namespaced = with_kind!(reference.kind.as_str(), R => R::NAMESPACED, otherwise return None);
        Some(ObjectRef {
            kind: reference.kind.clone(),
            namespace: if namespaced { namespace.into() } else { String::new() },
            name: reference.name.clone(),
        })
    }

    /// Reads a work-queue key back.
    pub fn parse(key: &str) -> Option<Self> {
        let mut parts = key.splitn(3, '/');
        let (kind, namespace, name) = (parts.next()?, parts.next()?, parts.next()?);
        Some(ObjectRef { kind: kind.into(), namespace: namespace.into(), name: name.into() })
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.kind, self.namespace, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_owners_take_their_kinds_scope() {
        let pod = ObjectRef { kind: "Pod".into(), namespace: "team".into(), name: "web-x".into() };
        assert_eq!(ObjectRef::parse(&pod.to_string()), Some(pod));
        let reference = |kind: &str| OwnerReference { kind: kind.into(), name: "a".into(), ..Default::default() };
        assert_eq!(ObjectRef::owner(&reference("ReplicationController"), "team").unwrap().namespace, "team");
        assert_eq!(ObjectRef::owner(&reference("Node"), "team").unwrap().namespace, "");
        assert_eq!(ObjectRef::owner(&reference("Deployment"), "team"), None);
    }
}
