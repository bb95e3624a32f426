//! Client machinery shared by rkctl and every component: the typed gRPC
//! client, informers (list + watch + local store), a rate-limited work queue,
//! the controller loop, an event recorder and leader election.

mod client;
pub mod clock;
pub mod controller;
pub mod daemon;
pub mod events;
pub mod informer;
pub mod leader;
pub mod status_server;
pub mod workqueue;

pub use client::{Client, ConnectError, KindClient};
pub use controller::{run_controller, Action, Reconciler};
pub use events::EventRecorder;
pub use informer::{object_key, Change, Informer, InformerHandle, Store};
pub use workqueue::WorkQueue;
