//! `rkctl logs` and `rkctl exec` refuse bad arguments before contacting any
//! server, saying what is wrong and what is accepted. (Logs and exec against
//! running containers are covered by the kubelet's end-to-end tests.)

mod common;

use common::{rkctl_binary, text};
use std::process::Command;

/// Runs rkctl with a server nobody listens on; returns (exit code, stderr).
fn rkctl(args: &[&str]) -> (i32, String) {
    let out = Command::new(rkctl_binary())
        .args(["--server", "127.0.0.1:1"])
        .args(args)
        .env_remove("RK_SERVER")
        .output()
        .expect("rkctl runs");
    (out.status.code().expect("rkctl exits"), text(&out.stderr))
}

#[test]
fn exec_wants_the_command_after_a_double_dash() {
    let (code, stderr) = rkctl(&["exec", "web", "ls", "-l"]);
    assert_eq!((code, stderr.as_str()), (1, "error: the command goes after `--`: rkctl exec web -- ls -l\n"));
    let (code, stderr) = rkctl(&["exec", "web", "-c", "app", "ls", "--", "-x"]);
    assert_eq!(code, 1);
    assert!(stderr.starts_with("error: unexpected \"ls\" between the pod and `--`"), "{stderr}");
    for args in [&["exec", "web"][..], &["exec", "-it", "web", "--"]] {
        let (code, stderr) = rkctl(args);
        assert_eq!(code, 1);
        assert!(
            stderr.contains("no command given (usage: rkctl exec POD [-c CONTAINER] [-i] [-t] -- COMMAND"),
            "{stderr}"
        );
    }
}

#[test]
fn logs_and_exec_take_only_pods() {
    for command in [&["exec", "rc/web", "--", "ls"][..], &["logs", "rc/web"]] {
        let (code, stderr) = rkctl(command);
        assert_eq!(code, 1);
        assert!(stderr.contains("\"rc/web\" is a ReplicationController: logs and exec take a pod"), "{stderr}");
    }
    let (code, stderr) = rkctl(&["logs", "pod/"]);
    assert_eq!((code, stderr.as_str()), (1, "error: \"pod/\" names no pod: expected NAME or pod/NAME\n"));
    let (code, stderr) = rkctl(&["logs"]);
    assert_eq!(code, 2, "a usage error, from the argument parser");
    assert!(stderr.contains("<POD>"), "{stderr}");
}

#[test]
fn logs_tail_is_a_number_of_lines_or_minus_one() {
    let (code, stderr) = rkctl(&["logs", "web", "--tail", "-5"]);
    assert_eq!((code, stderr.as_str()), (1, "error: --tail must be -1 (all lines) or a number of lines, got -5\n"));
    let (code, stderr) = rkctl(&["logs", "web", "--tail", "ten"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("invalid value 'ten' for '--tail <TAIL>'"), "{stderr}");
    // Valid arguments get as far as the (absent) server.
    let (code, stderr) = rkctl(&["logs", "web", "--tail", "-1", "-f", "--previous", "--timestamps", "-c", "app"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("cannot connect to the rk apiserver at http://127.0.0.1:1"), "{stderr}");
}
