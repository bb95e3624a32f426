//! The pod sandbox's process: holds the pod's namespaces open, sleeping until
//! told to stop. As PID 1 of the pod it also reaps zombies that get reparented
//! to it.

use std::process::ExitCode;

fn main() -> ExitCode {
    let set = match rk_images::block_signals(&[libc::SIGTERM, libc::SIGINT, libc::SIGCHLD]) {
        Ok(set) => set,
        Err(e) => {
            eprintln!("rk-pause: blocking signals: {e}");
            return ExitCode::FAILURE;
        }
    };
    loop {
        match rk_images::wait_signal(&set) {
            Ok(libc::SIGCHLD) => reap_children(),
            Ok(_) => return ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("rk-pause: waiting for signals: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
}

/// Collects every exited child; several may share one SIGCHLD.
fn reap_children() {
    loop {
        // SAFETY: a null status pointer is allowed.
        let pid = unsafe { libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) };
        if pid <= 0 {
            return;
        }
    }
}
