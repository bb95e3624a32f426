//! The client side of an exec call, for tests: a request stream to feed
//! step by step, and a transcript of what came back.

use futures::StreamExt;
use rk_proto::streaming::exec_request::Request as Input;
use rk_proto::streaming::exec_response::Response as Output;
use rk_proto::streaming::{ExecRequest, ExecResponse, ExecStart};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Status, Streaming};

/// A request stream that begins with `start`, and the sender of the requests after it.
pub fn exec_requests(start: ExecStart) -> (ReceiverStream<ExecRequest>, mpsc::Sender<ExecRequest>) {
    let (sender, receiver) = mpsc::channel(16);
    sender.try_send(input(Input::Start(start))).expect("an empty channel has room");
    (ReceiverStream::new(receiver), sender)
}

pub fn input(request: Input) -> ExecRequest {
    ExecRequest { request: Some(request) }
}

/// What an exec call has answered so far.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ExecTranscript {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: Option<i32>,
}

impl ExecTranscript {
    /// Reads responses until `want` has appeared on stdout or stderr.
    pub async fn read_until(&mut self, responses: &mut Streaming<ExecResponse>, want: &str) -> Result<(), Status> {
        while !(self.stdout.contains(want) || self.stderr.contains(want)) {
            if !self.read_one(responses).await? {
                panic!("the exec call ended before {want:?} appeared: {self:?}");
            }
        }
        Ok(())
    }

    /// Reads responses until the call ends, and checks that the exit code came last.
    pub async fn read_to_end(&mut self, responses: &mut Streaming<ExecResponse>) -> Result<i32, Status> {
        loop {
            let exited = self.exit_code.is_some();
            if !self.read_one(responses).await? {
                break;
            }
            assert!(!exited, "a response followed the exit code: {self:?}");
        }
        Ok(self.exit_code.unwrap_or_else(|| panic!("the exec call ended without an exit code: {self:?}")))
    }

    /// Reads one response; false at the end of the call.
    async fn read_one(&mut self, responses: &mut Streaming<ExecResponse>) -> Result<bool, Status> {
        let Some(response) = responses.next().await.transpose()? else { return Ok(false) };
        match response.response {
            Some(Output::Stdout(data)) => self.stdout.push_str(&String::from_utf8_lossy(&data)),
            Some(Output::Stderr(data)) => self.stderr.push_str(&String::from_utf8_lossy(&data)),
            Some(Output::ExitCode(code)) => self.exit_code = Some(code),
            None => {}
        }
        Ok(true)
    }
}
