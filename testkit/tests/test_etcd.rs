//! TestEtcd starts a healthy etcd and stops it on drop.

use std::time::{Duration, Instant};

use rk_testkit::TestEtcd;

fn port_of(endpoint: &str) -> u16 {
    endpoint.rsplit(':').next().and_then(|port| port.parse().ok()).expect("endpoint ends in a port")
}

#[tokio::test]
async fn starts_healthy_and_stops_on_drop() {
    let etcd = TestEtcd::start().await.expect("etcd starts");
    let endpoint = etcd.endpoint();
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
    let port = port_of(&endpoint);
    tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("etcd accepts connections");

    drop(etcd);
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
        assert!(Instant::now() < deadline, "etcd still listening on {port} after drop");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[test]
fn free_port_is_bindable() {
    let port = rk_testkit::free_port();
    std::net::TcpListener::bind(("127.0.0.1", port)).expect("the port is free");
}
