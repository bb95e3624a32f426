use super::*;
use crate::pods::containers::tests::info;
use rk_proto::v1::{Container, ObjectMeta, PodSpec};

fn pod(policy: &str, names: &[&str]) -> Pod {
    Pod {
        metadata: Some(ObjectMeta { name: "web".into(), uid: "uid-1".into(), ..Default::default() }),
        spec: Some(PodSpec {
            restart_policy: policy.into(),
            containers: names
                .iter()
                .map(|n| Container { name: n.to_string(), image: "img:1".into(), ..Default::default() })
                .collect(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn exited(id: &str, name: &str, attempt: u32, code: i64) -> ContainerInfo {
    let mut c = info(id, Some(name), attempt, RuntimeState::Exited);
    c.exit_code = code;
    c.reason = if code == 0 { "Completed".into() } else { "Error".into() };
    c
}

fn sandbox() -> ContainerInfo {
    let mut s = info("s0", None, 0, RuntimeState::Running);
    s.ip = Some("10.244.0.7".into());
    s
}

fn status_of(pod: &Pod, all: Vec<ContainerInfo>, waiting: &[(&str, &str)], ready: bool) -> PodStatus {
    let containers = PodContainers { all };
    let waiting = waiting
        .iter()
        .map(|(n, r)| (n.to_string(), Waiting { reason: r.to_string(), message: String::new() }))
        .collect();
    let ready_fn = move |_: &str| ready;
    compute(&StatusInputs {
        pod,
        containers: &containers,
        waiting: &waiting,
        ready: &ready_fn,
        host_ip: "192.168.50.10",
        now: "2026-11-24T00:00:00Z",
    })
}

fn condition<'a>(status: &'a PodStatus, kind: &str) -> &'a PodCondition {
    status.conditions.iter().find(|c| c.r#type == kind).unwrap()
}

#[test]
fn nothing_started_yet_is_pending_with_container_creating() {
    let status = status_of(&pod("Always", &["app"]), vec![], &[], true);
    assert_eq!(status.phase, "Pending");
    let state = status.container_statuses[0].state.clone().unwrap();
    assert_eq!(state.waiting.unwrap().reason, "ContainerCreating");
    assert_eq!(condition(&status, "Ready").status, "False");
    assert_eq!(status.start_time, "2026-11-24T00:00:00Z");
}

#[test]
fn running_and_ready_pod_reports_ip_and_ready_conditions() {
    let p = pod("Always", &["app", "side"]);
    let all = vec![
        sandbox(),
        info("a", Some("app"), 0, RuntimeState::Running),
        info("b", Some("side"), 0, RuntimeState::Running),
    ];
    let status = status_of(&p, all.clone(), &[], true);
    assert_eq!(status.phase, "Running");
    assert_eq!(status.pod_ip, "10.244.0.7");
    assert_eq!(status.host_ip, "192.168.50.10");
    assert_eq!(condition(&status, "Ready").status, "True");
    assert_eq!(condition(&status, "ContainersReady").status, "True");
    assert_eq!(status.container_statuses[1].container_id, "docker://b");
    let unready = status_of(&p, all, &[], false);
    assert_eq!(condition(&unready, "Ready").message, "containers with unready status: [app side]");
}

#[test]
fn crash_looping_container_is_waiting_with_last_state_and_restart_count() {
    let p = pod("Always", &["app"]);
    let all = vec![sandbox(), exited("a1", "app", 0, 1), exited("a2", "app", 1, 2)];
    let status = status_of(&p, all, &[("app", "CrashLoopBackOff")], true);
    let app = &status.container_statuses[0];
    assert_eq!(app.restart_count, 1);
    assert_eq!(app.state.clone().unwrap().waiting.unwrap().reason, "CrashLoopBackOff");
    assert_eq!(app.last_state.clone().unwrap().terminated.unwrap().exit_code, 2);
    assert_eq!(status.phase, "Running", "a container waiting for a restart counts as stopped, not pending");
}

#[test]
fn restarted_container_shows_previous_run_as_last_state() {
    let all = vec![sandbox(), exited("a1", "app", 0, 137), info("a2", Some("app"), 1, RuntimeState::Running)];
    let status = status_of(&pod("Always", &["app"]), all, &[], true);
    let app = &status.container_statuses[0];
    assert!(app.state.clone().unwrap().running.is_some());
    assert_eq!(app.last_state.clone().unwrap().terminated.unwrap().exit_code, 137);
    assert_eq!(app.restart_count, 1);
}

#[test]
fn phases_of_finished_containers_follow_the_restart_policy() {
    let done =
        |policy: &str, code| status_of(&pod(policy, &["app"]), vec![exited("a", "app", 0, code)], &[], true).phase;
    assert_eq!(done("Never", 0), "Succeeded");
    assert_eq!(done("Never", 1), "Failed");
    assert_eq!(done("OnFailure", 0), "Succeeded");
    assert_eq!(done("OnFailure", 1), "Running");
    assert_eq!(done("Always", 0), "Running");
}

#[test]
fn a_terminal_phase_is_never_left() {
    let mut p = pod("Never", &["app"]);
    p.status = Some(PodStatus { phase: "Failed".into(), ..Default::default() });
    let status = status_of(&p, vec![], &[], true);
    assert_eq!(status.phase, "Failed");
    assert_eq!(condition(&status, "Ready").reason, "PodCompleted");
}

#[test]
fn same_inputs_give_an_equal_status_so_nothing_is_written() {
    let mut p = pod("Always", &["app"]);
    let all = vec![sandbox(), info("a", Some("app"), 0, RuntimeState::Running)];
    let first = status_of(&p, all.clone(), &[], true);
    p.status = Some(first.clone());
    let later = compute(&StatusInputs {
        pod: &p,
        containers: &PodContainers { all },
        waiting: &HashMap::new(),
        ready: &|_| true,
        host_ip: "192.168.50.10",
        now: "2026-11-24T01:00:00Z",
    });
    assert_eq!(first, later, "transition times and start time are kept");
}

#[test]
fn scheduler_condition_is_kept() {
    let mut p = pod("Always", &["app"]);
    let scheduled = PodCondition {
        r#type: "PodScheduled".into(),
        status: "True".into(),
        last_transition_time: "t0".into(),
        ..Default::default()
    };
    p.status = Some(PodStatus { conditions: vec![scheduled.clone()], ..Default::default() });
    assert_eq!(condition(&status_of(&p, vec![], &[], true), "PodScheduled"), &scheduled);
}
