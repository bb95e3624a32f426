//! Bridges an exec call's request stream and a runtime exec session: stdin
//! bytes, resizes and end of stdin go in; output chunks and, last, the exit
//! code come out.

use super::service::runtime_status;
use crate::runtime::{ExecChunk, ExecSession};
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use rk_proto::streaming::exec_request::Request as Input;
use rk_proto::streaming::exec_response::Response as Output;
use rk_proto::streaming::{ExecRequest, ExecResponse, TerminalSize};
use tokio::sync::mpsc;
use tonic::Status;

pub type ExecStream = BoxStream<'static, Result<ExecResponse, Status>>;

/// (columns, rows) as the runtime takes them.
pub fn terminal_size(size: &TerminalSize) -> (u16, u16) {
    let clamp = |n: u32| u16::try_from(n).unwrap_or(u16::MAX);
    (clamp(size.width), clamp(size.height))
}

/// The response stream of an exec call whose remaining requests are `requests`.
pub fn bridge<S>(session: ExecSession, requests: S) -> ExecStream
where
    S: Stream<Item = Result<ExecRequest, Status>> + Send + Unpin + 'static,
{
    let input = AbortOnDrop(tokio::spawn(forward_input(requests, session.stdin, session.resize)));
    let output = session.output.map(|chunk| {
        let response = match chunk.map_err(runtime_status)? {
            ExecChunk::Stdout(data) => Output::Stdout(data.to_vec()),
            ExecChunk::Stderr(data) => Output::Stderr(data.to_vec()),
        };
        Ok(ExecResponse { response: Some(response) })
    });
    let exit = futures::stream::once(async move {
        let code = session.exit_code.await.map_err(runtime_status)?;
        let code = i32::try_from(code).unwrap_or(i32::MAX);
        Ok(ExecResponse { response: Some(Output::ExitCode(code)) })
    });
    // The input task lives as long as the response stream.
    output
        .chain(exit)
        .map(move |item| {
            let _input = &input;
            item
        })
        .boxed()
}

async fn forward_input<S>(mut requests: S, mut stdin: Option<mpsc::Sender<Bytes>>, resize: mpsc::Sender<(u16, u16)>)
where
    S: Stream<Item = Result<ExecRequest, Status>> + Unpin,
{
    // The end of the request stream (or its failure) also closes stdin, when `stdin` is dropped.
    while let Some(Ok(message)) = requests.next().await {
        let Some(request) = message.request else { continue };
        match request {
            Input::Stdin(data) => {
                // No stdin attached (or the command closed it): the bytes have nowhere to go.
                if let Some(sender) = &stdin {
                    if sender.send(Bytes::from(data)).await.is_err() {
                        stdin = None;
                    }
                }
            }
            Input::Resize(size) => {
                let _ = resize.send(terminal_size(&size)).await;
            }
            Input::StdinClosed(_) => stdin = None,
            Input::Start(_) => tracing::warn!("ignoring a second `start` in an exec call"),
        }
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
