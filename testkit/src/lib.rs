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
mod ports;

pub use cidr::{lease_cluster_cidr, CidrLease};
pub use docker::{shared_dockerd, static_images_dir, TestDocker};
pub use etcd::TestEtcd;
pub use machine::machine_description;
pub use poll::eventually;
pub use ports::free_port;
