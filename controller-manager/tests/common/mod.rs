//! What the controller-manager's integration tests share besides
//! `rk_test_api::TestApi`: short-resync settings, controllers that can be
//! killed, and a proxy that delays the apiserver's answers.
// Each test binary includes this module and uses a different part of it.
#![allow(dead_code)]

use rk_client::Client;
use rk_controller_manager::{ControllerContext, Settings};
use rk_proto::v1::{Binding, Container, Event, ListOptions, ObjectMeta, ObjectReference, Pod, PodSpec, Volume};
use rk_proto::Resource;
use rk_testkit::eventually;
use std::future::Future;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Settings with a short resync, so a missed event is repaired within a test's patience.
pub fn test_settings() -> Settings {
    Settings { resync: Duration::from_secs(1), ..Settings::default() }
}

/// Controllers running on a runtime of their own, as a separate process would.
///
/// [`kill`](Self::kill) stops every task they spawned at once (informers,
/// workers, requests in flight) and closes their connection, which is as near
/// to SIGKILL as an in-process test gets.
pub struct ControllerProcess {
    runtime: Option<tokio::runtime::Runtime>,
}

impl ControllerProcess {
    /// Connects its own client to `address` and runs `start` with a context
    /// built from it and `settings`, on the new runtime.
    pub fn start<F, Fut>(address: &str, settings: Settings, start: F) -> ControllerProcess
    where
        F: FnOnce(ControllerContext) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("controller runtime builds");
        let address = address.to_string();
        runtime.spawn(async move {
            let client = Client::connect(&address).await.expect("apiserver reachable");
            start(ControllerContext::new(client, settings)).await;
        });
        ControllerProcess { runtime: Some(runtime) }
    }

    pub fn kill(self) {
        drop(self);
    }
}

impl Drop for ControllerProcess {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// A TCP proxy to `target` that hands on everything the server sends only
/// after `delay`, while requests pass at once: a client connected through it
/// sees responses and watch events late, as behind an overloaded apiserver.
/// Returns the proxy's address.
pub async fn delaying_proxy(target: &str, delay: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let target = target.to_string();
    tokio::spawn(async move {
        while let Ok((inbound, _)) = listener.accept().await {
            let Ok(outbound) = TcpStream::connect(&target).await else { continue };
            let (mut from_client, mut to_client) = inbound.into_split();
            let (mut from_server, mut to_server) = outbound.into_split();
            tokio::spawn(async move { tokio::io::copy(&mut from_client, &mut to_server).await });
            let (late, mut due) = mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
            tokio::spawn(async move {
                let mut buffer = vec![0; 64 * 1024];
                while let Ok(read @ 1..) = from_server.read(&mut buffer).await {
                    if late.send((tokio::time::Instant::now() + delay, buffer[..read].to_vec())).is_err() {
                        break;
                    }
                }
            });
            tokio::spawn(async move {
                while let Some((when, bytes)) = due.recv().await {
                    tokio::time::sleep_until(when).await;
                    if to_client.write_all(&bytes).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    address
}

/// A pod in `default` with `volumes`, bound to `node` at once, as the scheduler would.
pub async fn create_bound_pod(client: &Client, name: &str, node: &str, volumes: Vec<Volume>) {
    let pod = Pod {
        metadata: Some(ObjectMeta { name: name.into(), namespace: "default".into(), ..Default::default() }),
        spec: Some(PodSpec {
            containers: vec![Container { name: "app".into(), image: "app:1".into(), ..Default::default() }],
            volumes,
            ..Default::default()
        }),
        ..Default::default()
    };
    let pod = client.create(pod).await.unwrap();
    let binding = Binding {
        metadata: Some(ObjectMeta {
            name: name.into(),
            namespace: "default".into(),
            uid: pod.metadata().uid.clone(),
            ..Default::default()
        }),
        target: Some(ObjectReference { kind: "Node".into(), name: node.into(), ..Default::default() }),
        ..Default::default()
    };
    client.bind(binding).await.unwrap();
}

/// The event with `reason` about the object named `involved`, if there is one yet
/// (these tests' objects and the nodes' events are all in `default`).
pub async fn find_event(client: &Client, involved: &str, reason: &str) -> Option<Event> {
    let options = ListOptions { namespace: "default".into(), ..Default::default() };
    let events = client.list::<Event>(options).await.ok()?.items;
    events.into_iter().find(|e| e.reason == reason && e.involved_object.as_ref().is_some_and(|o| o.name == involved))
}

/// Waits for the event with `reason` about `involved`. Controllers record events
/// after the writes they describe, so a test that saw the write polls for the event.
pub async fn wait_for_event(client: &Client, involved: &str, reason: &str) -> Event {
    let description = format!("a {reason} event on {involved}");
    eventually(&description, Duration::from_secs(15), || find_event(client, involved, reason)).await
}
