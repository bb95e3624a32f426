//! The apiserver as a process: SIGKILL in the middle of 1,000 concurrent
//! creates loses no acknowledged create; SIGTERM shuts it down cleanly.

use rk_client::Client;
use rk_proto::v1::*;
use rk_proto::ResourceList;
use rk_testkit::{free_port, TestEtcd};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn start_apiserver(etcd: &str, port: u16, health_port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_rk-apiserver"))
        .args(["--etcd-servers", etcd, "--listen", &format!("127.0.0.1:{port}")])
        .args(["--health-listen", &format!("127.0.0.1:{health_port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("rk-apiserver starts")
}

async fn connect(port: u16) -> Client {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match Client::connect(&format!("127.0.0.1:{port}")).await {
            Ok(client) if client.list::<Namespace>(ListOptions::default()).await.is_ok() => return client,
            _ if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(50)).await,
            other => panic!("apiserver did not come up: {:?}", other.err()),
        }
    }
}

fn pod(name: String) -> Pod {
    Pod {
        metadata: Some(ObjectMeta { name, ..Default::default() }),
        spec: Some(PodSpec {
            containers: vec![Container { name: "c".into(), image: "hello".into(), ..Default::default() }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_concurrent_creates_loses_no_acknowledged_create() {
    let etcd = TestEtcd::start().await.unwrap();
    let (port, health) = (free_port(), free_port());
    let mut apiserver = start_apiserver(&etcd.endpoint(), port, health);
    let client = connect(port).await;

    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::new()));
    let done = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..1000)
        .map(|i| {
            let (client, acknowledged, done) = (client.clone(), acknowledged.clone(), done.clone());
            tokio::spawn(async move {
                let name = format!("p{i:04}");
                if client.create(pod(name.clone())).await.is_ok() {
                    acknowledged.lock().unwrap().push(name);
                }
                done.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    // Kill it once a good share has been acknowledged, while the rest are in flight.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().unwrap().len() < 200 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    apiserver.kill().unwrap();
    apiserver.wait().unwrap();
    for task in tasks {
        task.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 200, "only {} creates were acknowledged before the kill", acknowledged.len());
    assert!(acknowledged.len() < 1000, "the kill came too late to test anything");

    let mut restarted = start_apiserver(&etcd.endpoint(), port, health);
    let client = connect(port).await;
    let stored: std::collections::HashSet<String> = client
        .list::<Pod>(ListOptions::default())
        .await
        .unwrap()
        .into_items()
        .into_iter()
        .map(|p| p.metadata.unwrap().name)
        .collect();
    let lost: Vec<_> = acknowledged.iter().filter(|name| !stored.contains(*name)).collect();
    assert!(lost.is_empty(), "{} acknowledged creates were lost: {lost:?}", lost.len());
    restarted.kill().unwrap();
    restarted.wait().unwrap();
}

#[tokio::test]
async fn sigterm_shuts_down_gracefully_even_with_open_watches() {
    let etcd = TestEtcd::start().await.unwrap();
    let (port, health) = (free_port(), free_port());
    let mut apiserver = start_apiserver(&etcd.endpoint(), port, health);
    let client = connect(port).await;
    let _watch = client.watch::<Pod>(ListOptions::default()).await.unwrap();
    let acknowledged = client.create(pod("before-term".into())).await.unwrap();
    assert!(!acknowledged.metadata.unwrap().uid.is_empty());

    // SAFETY: sends a signal to our own child process.
    unsafe { libc::kill(apiserver.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = apiserver.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "rk-apiserver did not exit within 15s of SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "exit status {status}");
}
