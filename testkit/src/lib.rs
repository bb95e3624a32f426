//! Test harness for rk's integration tests.
//!
//! [`TestEtcd`] runs a real single-member etcd (Debian's `etcd-server`) on free
//! loopback ports with its data in a temporary directory, so every test gets
//! its own store and nothing is left behind.

mod cidr;
mod docker;
mod etcd;
mod flock;
mod machine;
mod poll;

pub use cidr::{lease_cluster_cidr, CidrLease};
pub use docker::{shared_dockerd, static_images_dir, TestDocker};
pub use etcd::TestEtcd;
pub use machine::machine_description;
pub use poll::eventually;

/// A loopback TCP port that was free a moment ago.
///
/// The port is found by binding port 0 and releasing it, so another process
/// may in principle take it before the caller binds it; servers under test
/// should rather be handed an already bound listener.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("binding an ephemeral loopback port")
}
