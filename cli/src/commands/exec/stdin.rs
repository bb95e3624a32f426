//! `exec -i`: this process's stdin, sent to the command as it arrives.

use super::input;
use rk_proto::streaming::exec_request::Request as Input;
use rk_proto::streaming::ExecRequest;
use std::io::{ErrorKind, Read};
use tokio::sync::mpsc;

/// Reads stdin on a thread of its own (a blocking read of a terminal never
/// ends by itself, and must not hold the runtime up at exit) and sends it on;
/// end of input closes the command's stdin.
pub fn forward(requests: mpsc::Sender<ExecRequest>) {
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        // Larger than stdin's own buffer, so reads go straight to the file and return at once.
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let request = match stdin.read(&mut buffer) {
                Ok(0) => Input::StdinClosed(true),
                Ok(n) => Input::Stdin(buffer[..n].to_vec()),
                Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                // Input that cannot be read any more has ended, as far as the command can tell.
                Err(_) => Input::StdinClosed(true),
            };
            let last = matches!(request, Input::StdinClosed(_));
            if requests.blocking_send(input(request)).is_err() || last {
                return;
            }
        }
    });
}
