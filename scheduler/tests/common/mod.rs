//! What the scheduler's integration tests share besides `rk_test_api::TestApi`.

use rk_proto::v1::Pod;

pub fn node_name(pod: &Pod) -> &str {
    pod.spec.as_ref().map_or("", |spec| spec.node_name.as_str())
}
