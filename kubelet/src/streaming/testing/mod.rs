//! Test support for streaming, shared by the kubelet's and the apiserver's
//! tests: a scripted runtime behind the `ContainerRuntime` trait, and helpers
//! for the client side of an exec call.

mod client;
mod runtime;

pub use client::{exec_requests, input, ExecTranscript};
pub use runtime::{container, pod_uid, ScriptedRuntime};
