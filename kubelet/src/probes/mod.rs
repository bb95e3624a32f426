//! Liveness and readiness probes: one worker task per running container and
//! probe kind runs the probe every period (exec in the container, HTTP GET,
//! or TCP connect) and turns the attempts into a result with Kubernetes'
//! thresholds. The pod sync loop asks [`ProbeManager`] for the results and is
//! told, through its callback, whenever one flips.

mod http;
mod manager;
mod run;
mod spec;
mod thresholds;
mod worker;

pub use manager::{OnChange, ProbeManager, RunningContainer};

/// A probe that cannot run as written; each attempt fails with this message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    #[error("the probe sets no handler (one of exec, httpGet or tcpSocket is required)")]
    NoHandler,
    #[error("exec probe has an empty command")]
    EmptyCommand,
    #[error("httpGet scheme {0:?} is not supported (supported: HTTP)")]
    Scheme(String),
    #[error("httpGet header {0:?}: the name must be a token and the value must not contain line breaks")]
    Header(String),
    #[error("port name {name:?} is not a port of the container (its named ports: {known})")]
    PortName { name: String, known: String },
    #[error("port {0} is out of range (allowed: 1-65535)")]
    PortNumber(i32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProbeKind {
    Liveness,
    Readiness,
}

impl std::fmt::Display for ProbeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ProbeKind::Liveness => "Liveness",
            ProbeKind::Readiness => "Readiness",
        })
    }
}

#[cfg(test)]
mod manager_tests;
#[cfg(test)]
mod run_tests;
#[cfg(test)]
mod testing;
