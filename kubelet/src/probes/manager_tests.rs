//! The manager with its workers: exec probes through a scripted runtime on
//! tokio's paused clock (periods pass at once, exactly), and one httpGet
//! probe against a real local server in real time.

use super::testing::{ExecRuntime, HttpServer};
use super::{ProbeManager, RunningContainer};
use chrono::{DateTime, Utc};
use rk_client::clock::{Clock, FakeClock};
use rk_proto::v1::{Container, ExecAction, HttpGetAction, ObjectMeta, Pod, PodSpec, Probe};
use rk_proto::IntOrString;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

const POD: &str = "default/web";

struct Setup {
    runtime: Arc<ExecRuntime>,
    clock: Arc<FakeClock>,
    changes: Arc<Mutex<Vec<String>>>,
    manager: ProbeManager,
}

fn setup() -> Setup {
    let runtime = Arc::new(ExecRuntime::default());
    let start = DateTime::parse_from_rfc3339("2024-05-01T12:00:00Z").unwrap().with_timezone(&Utc);
    let clock = Arc::new(FakeClock::new(start));
    let changes = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&changes);
    let manager = ProbeManager::new(
        runtime.clone(),
        clock.clone(),
        Arc::new(move |key: &str| seen.lock().unwrap().push(key.to_string())),
    );
    Setup { runtime, clock, changes, manager }
}

fn exec_probe(initial_delay: i32, success: i32, failure: i32) -> Probe {
    Probe {
        exec: Some(ExecAction { command: vec!["check".into()] }),
        initial_delay_seconds: initial_delay,
        period_seconds: 1,
        success_threshold: success,
        failure_threshold: failure,
        ..Default::default()
    }
}

fn pod(liveness: Option<Probe>, readiness: Option<Probe>) -> Pod {
    let app =
        Container { name: "app".into(), liveness_probe: liveness, readiness_probe: readiness, ..Default::default() };
    Pod {
        metadata: Some(ObjectMeta { name: "web".into(), namespace: "default".into(), ..Default::default() }),
        spec: Some(PodSpec { containers: vec![app], ..Default::default() }),
        ..Default::default()
    }
}

fn running(id: &str, started_at: DateTime<Utc>) -> RunningContainer {
    RunningContainer { name: "app".into(), id: id.into(), started_at: rk_proto::time::format(started_at) }
}

/// Polls `condition` until it holds; panics after a minute of (tokio) time.
async fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(start_paused = true)]
async fn readiness_waits_for_the_initial_delay_and_the_success_threshold() {
    let s = setup();
    let begin = Instant::now();
    s.manager.sync_pod(POD, &pod(None, Some(exec_probe(5, 2, 3))), "10.1.0.2", &[running("c1", s.clock.now())]);
    assert!(!s.manager.ready("c1"), "a container with a readiness probe starts unready");
    wait_until("c1 is ready", || s.manager.ready("c1")).await;
    let took = begin.elapsed();
    // Probes at 5 s and 6 s: the second consecutive success makes it ready.
    assert!(took >= Duration::from_secs(6) && took < Duration::from_secs(7), "ready after {took:?}");
    assert_eq!(s.runtime.calls.load(Ordering::SeqCst), 2);
    assert_eq!(*s.changes.lock().unwrap(), vec![POD.to_string()]);
    assert_eq!(s.manager.liveness_failed("c1"), None);
}

#[tokio::test(start_paused = true)]
async fn readiness_falls_after_the_failure_threshold_and_comes_back() {
    let s = setup();
    s.manager.sync_pod(POD, &pod(None, Some(exec_probe(0, 1, 3))), "10.1.0.2", &[running("c1", s.clock.now())]);
    wait_until("c1 is ready", || s.manager.ready("c1")).await;
    let before = s.runtime.calls.load(Ordering::SeqCst);
    s.runtime.set_exit_code("c1", 1);
    wait_until("c1 is unready", || !s.manager.ready("c1")).await;
    assert_eq!(s.runtime.calls.load(Ordering::SeqCst) - before, 3, "three failures in a row");
    s.runtime.set_exit_code("c1", 0);
    wait_until("c1 is ready again", || s.manager.ready("c1")).await;
    assert_eq!(s.changes.lock().unwrap().len(), 3, "one call per flip");
}

#[tokio::test(start_paused = true)]
async fn a_failed_liveness_probe_gives_the_event_message_and_stops_probing() {
    let s = setup();
    s.runtime.set_exit_code("c1", 1);
    *s.runtime.output.lock().unwrap() = b"not healthy\n".to_vec();
    s.manager.sync_pod(POD, &pod(Some(exec_probe(0, 1, 2)), None), "10.1.0.2", &[running("c1", s.clock.now())]);
    assert_eq!(s.manager.liveness_failed("c1"), None, "alive until the probe says otherwise");
    wait_until("the liveness probe fails", || s.manager.liveness_failed("c1").is_some()).await;
    assert_eq!(s.manager.liveness_failed("c1").unwrap(), "Liveness probe failed: not healthy");
    assert!(s.manager.ready("c1"), "no readiness probe: ready");
    assert_eq!(*s.changes.lock().unwrap(), vec![POD.to_string()]);
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(s.runtime.calls.load(Ordering::SeqCst), 2, "no probing while the container awaits its restart");
}

#[tokio::test(start_paused = true)]
async fn a_container_started_long_ago_is_probed_at_once() {
    let s = setup();
    let begin = Instant::now();
    let adopted = running("c1", s.clock.now() - chrono::Duration::seconds(60));
    s.manager.sync_pod(POD, &pod(None, Some(exec_probe(30, 1, 3))), "10.1.0.2", &[adopted]);
    wait_until("c1 is ready", || s.manager.ready("c1")).await;
    assert!(begin.elapsed() < Duration::from_secs(1), "ready after {:?}", begin.elapsed());
}

#[tokio::test(start_paused = true)]
async fn workers_stop_with_their_container_and_their_pod() {
    let s = setup();
    let spec = pod(None, Some(exec_probe(0, 1, 3)));
    s.manager.sync_pod(POD, &spec, "10.1.0.2", &[running("c1", s.clock.now())]);
    wait_until("c1 is ready", || s.manager.ready("c1")).await;
    s.runtime.set_exit_code("c2", 1);
    // The container restarted: c1 is gone, c2 replaces it.
    s.manager.sync_pod(POD, &spec, "10.1.0.2", &[running("c2", s.clock.now())]);
    assert!(!s.manager.ready("c2"));
    let calls = s.runtime.calls.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(4500)).await;
    assert_eq!(s.runtime.calls.load(Ordering::SeqCst) - calls, 5, "only c2 is probed, once a second");
    s.manager.remove_pod(POD);
    let calls = s.runtime.calls.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(s.runtime.calls.load(Ordering::SeqCst), calls, "nothing is probed after remove_pod");
}

#[tokio::test(start_paused = true)]
async fn syncing_the_same_containers_again_keeps_the_workers() {
    let s = setup();
    let spec = pod(Some(exec_probe(0, 1, 3)), Some(exec_probe(0, 1, 3)));
    let containers = [running("c1", s.clock.now())];
    s.manager.sync_pod(POD, &spec, "10.1.0.2", &containers);
    wait_until("c1 is ready", || s.manager.ready("c1")).await;
    for _ in 0..3 {
        s.manager.sync_pod(POD, &spec, "10.1.0.2", &containers);
    }
    assert!(s.manager.ready("c1"), "a re-sync does not reset results");
    let calls = s.runtime.calls.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(s.runtime.calls.load(Ordering::SeqCst) - calls, 4, "two workers, not more, each once a second");
}

#[tokio::test]
async fn http_readiness_against_a_real_server() {
    let s = setup();
    let server = HttpServer::start(200).await;
    let probe = Probe {
        http_get: Some(HttpGetAction { port: Some(IntOrString::int(server.port as i32)), ..Default::default() }),
        period_seconds: 1,
        failure_threshold: 1,
        ..Default::default()
    };
    s.manager.sync_pod(POD, &pod(None, Some(probe)), "127.0.0.1", &[running("c1", s.clock.now())]);
    wait_until("c1 is ready", || s.manager.ready("c1")).await;
    server.set_status(503);
    wait_until("c1 is unready", || !s.manager.ready("c1")).await;
    assert_eq!(s.changes.lock().unwrap().len(), 2);
}
