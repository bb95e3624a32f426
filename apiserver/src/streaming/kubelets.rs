//! Connections to kubelets, one per address, reused by every call to it.

use rk_proto::streaming::pod_streaming_client::PodStreamingClient;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;
use tonic::transport::{Channel, Endpoint};

#[derive(Default)]
pub struct Kubelets {
    channels: Mutex<HashMap<SocketAddr, Channel>>,
}

impl Kubelets {
    /// A client for the kubelet at `address`. Channels connect on first use and
    /// reconnect by themselves, so a restarted kubelet needs nothing here.
    pub fn client(&self, address: SocketAddr) -> PodStreamingClient<Channel> {
        let mut channels = self.channels.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let channel = channels.entry(address).or_insert_with(|| {
            Endpoint::from_shared(format!("http://{address}"))
                .expect("a socket address makes a valid URI")
                .connect_timeout(Duration::from_secs(5))
                // Keystrokes of an interactive exec must not wait for Nagle's algorithm.
                .tcp_nodelay(true)
                .connect_lazy()
        });
        PodStreamingClient::new(channel.clone())
    }
}
