//! etcd keys: `/registry/<plural>/<namespace>/<name>`, or `/registry/<plural>/<name>`
//! for cluster-scoped kinds.

use rk_proto::Resource;

pub fn object_key<R: Resource>(namespace: &str, name: &str) -> String {
    if R::NAMESPACED {
        format!("/registry/{}/{namespace}/{name}", R::PLURAL)
    } else {
        format!("/registry/{}/{name}", R::PLURAL)
    }
}

/// The prefix holding every object of the kind in `namespace` (empty: all namespaces).
pub fn list_prefix<R: Resource>(namespace: &str) -> String {
    if R::NAMESPACED && !namespace.is_empty() {
        format!("/registry/{}/{namespace}/", R::PLURAL)
    } else {
        format!("/registry/{}/", R::PLURAL)
    }
}
