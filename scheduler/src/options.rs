//! How a scheduler runs; [`Options::default`] suits a local cluster.

use std::time::Duration;

/// Where the leader lock lives: an Endpoints object, as Kubernetes' scheduler used.
pub const LEADER_LOCK_NAMESPACE: &str = "kube-system";
pub const LEADER_LOCK_NAME: &str = "rk-scheduler";

#[derive(Debug, Clone)]
pub struct Options {
    /// None: schedule at once, without a lock. Several schedulers may then run
    /// together safely (a pod is bound at most once), if less efficiently.
    pub leader_election: Option<LeaderElection>,
    /// Binds in flight at once; the scheduling loop waits when all are taken.
    pub bind_concurrency: usize,
    /// How long a bound pod counts as assumed until the watch confirms it.
    pub assumed_pod_ttl: Duration,
    /// Back-off of a pod that fits nowhere: the first retry waits this long,
    /// doubling per failure up to `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// Share of the nodes to find feasible before scoring; None adapts it to the cluster size.
    pub percentage_of_nodes_to_score: Option<u32>,
    /// Informers re-announce everything this often, which repairs anything missed.
    pub resync_period: Duration,
}

#[derive(Debug, Clone)]
pub struct LeaderElection {
    /// Unique per instance, e.g. `hostname_pid`.
    pub identity: String,
    pub lease: Duration,
    pub retry: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            leader_election: None,
            bind_concurrency: 64,
            assumed_pod_ttl: Duration::from_secs(30),
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(10),
            percentage_of_nodes_to_score: None,
            resync_period: Duration::from_secs(300),
        }
    }
}
