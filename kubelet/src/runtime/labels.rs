//! Labels rk puts on every container, so a restarted kubelet can find its
//! pods' containers again and tell whose they are.

pub const NODE: &str = "io.rk.node";
pub const POD_UID: &str = "io.rk.pod.uid";
pub const POD_NAMESPACE: &str = "io.rk.pod.namespace";
pub const POD_NAME: &str = "io.rk.pod.name";
/// The spec container's name; absent on the sandbox.
pub const CONTAINER_NAME: &str = "io.rk.container.name";
/// The restart count the container was started as.
pub const ATTEMPT: &str = "io.rk.container.attempt";
/// Grace period to use when the kubelet stops the container.
pub const TERMINATION_GRACE: &str = "io.rk.container.termination-grace";
/// Marks the pause container.
pub const SANDBOX: &str = "io.rk.sandbox";
