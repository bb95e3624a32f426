//! Logs and exec: the apiserver serves rk.streaming.v1.PodStreaming by finding
//! the pod's node and container and forwarding the call to that node's
//! kubelet, presenting the credential the kubelet demands.

mod credential;
mod kubelets;
mod locate;
mod service;

pub use credential::KubeletCredential;
pub(crate) use service::StreamingProxy;
