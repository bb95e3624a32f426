//! `rkctl exec POD [-c NAME] [-i] [-t] -- COMMAND [ARGS...]`: runs a command in
//! a container, with this terminal's input and size when asked; the command's
//! exit code becomes rkctl's.

mod stdin;
mod terminal;

use super::pod_arg::pod_name;
use super::Context;
use crate::errors::ServerError;
use futures::StreamExt;
use rk_proto::streaming::exec_request::Request as Input;
use rk_proto::streaming::exec_response::Response as Output;
use rk_proto::streaming::pod_streaming_client::PodStreamingClient;
use rk_proto::streaming::{ExecRequest, ExecResponse, ExecStart};
use rk_proto::v1::Pod;
use std::io::Write;
use std::process::ExitCode;
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Streaming;

const USAGE: &str = "rkctl exec POD [-c CONTAINER] [-i] [-t] -- COMMAND [ARGS...]";

#[derive(clap::Args, Debug)]
pub struct ExecArgs {
    /// The pod: NAME or pod/NAME.
    pod: String,
    /// Words between the pod and `--`, there by mistake: the command goes after `--`.
    #[arg(hide = true, allow_hyphen_values = true)]
    misplaced: Vec<String>,
    /// The container (default: the pod's first).
    #[arg(short = 'c', long)]
    container: Option<String>,
    /// Pass stdin to the command; end of input closes the command's stdin.
    #[arg(short = 'i', long)]
    stdin: bool,
    /// Give the command a terminal (with -i, when stdin is a terminal): this one
    /// goes into raw mode and its size follows along.
    #[arg(short = 't', long)]
    tty: bool,
    /// The command and its arguments, after `--`.
    #[arg(last = true)]
    command: Vec<String>,
}

/// The remote command failed; rkctl exits with its code, as kubectl does.
#[derive(Debug, thiserror::Error)]
#[error("command terminated with exit code {0}")]
pub struct CommandExited(pub i32);

impl CommandExited {
    pub fn exit_code(&self) -> ExitCode {
        // Codes beyond a byte (or 0 from an odd runtime) still say "failed".
        ExitCode::from(u8::try_from(self.0).ok().filter(|code| *code != 0).unwrap_or(1))
    }
}

pub async fn run(ctx: &Context, args: ExecArgs) -> anyhow::Result<()> {
    let pod = pod_name(&args.pod)?;
    if !args.misplaced.is_empty() {
        return Err(misplaced(&args.pod, &args.misplaced));
    }
    if args.command.is_empty() {
        anyhow::bail!("no command given (usage: {USAGE})");
    }
    // As kubectl: a terminal only makes sense for input that comes from one.
    let tty = args.tty && args.stdin && terminal::stdin_is_terminal();
    if args.tty && args.stdin && !tty {
        eprintln!("Unable to use a TTY - input is not a terminal or the right kind of file");
    }
    let start = ExecStart {
        namespace: ctx.namespace_for::<Pod>(),
        pod,
        container: args.container.unwrap_or_default(),
        command: args.command,
        stdin: args.stdin,
        tty,
        size: if tty { terminal::size() } else { None },
        pod_uid: String::new(),
    };
    let (requests, outbound) = mpsc::channel(64);
    requests.try_send(input(Input::Start(start)))?;
    let mut streaming = PodStreamingClient::new(ctx.client().await?.channel());
    let mut responses = streaming.exec(ReceiverStream::new(outbound)).await.map_err(ServerError)?.into_inner();
    let code = {
        let _raw = if tty { Some(terminal::RawMode::enable(libc::STDIN_FILENO)?) } else { None };
        if args.stdin {
            stdin::forward(requests.clone());
        }
        relay(&mut responses, &requests, tty).await
        // Raw mode ends here, whatever happened, before anything is printed.
    }?;
    match code {
        0 => Ok(()),
        code => Err(CommandExited(code).into()),
    }
}

/// Words after the pod outside `--`: say where the command goes.
fn misplaced(pod: &str, words: &[String]) -> anyhow::Error {
    match words.iter().position(|word| word == "--") {
        None => anyhow::anyhow!("the command goes after `--`: rkctl exec {pod} -- {}", words.join(" ")),
        Some(end) => {
            anyhow::anyhow!("unexpected {:?} between the pod and `--` (usage: {USAGE})", words[..end].join(" "))
        }
    }
}

pub fn input(request: Input) -> ExecRequest {
    ExecRequest { request: Some(request) }
}

/// Copies the command's output here and terminal resizes there until the exit code arrives.
async fn relay(
    responses: &mut Streaming<ExecResponse>,
    requests: &mpsc::Sender<ExecRequest>,
    tty: bool,
) -> anyhow::Result<i32> {
    let watch = |kind: SignalKind| if tty { signal(kind).ok() } else { None };
    let mut resized = watch(SignalKind::window_change());
    // In raw mode Ctrl-C goes to the command; these still end rkctl, through the terminal's restoration.
    let mut hangup = watch(SignalKind::hangup());
    let mut terminate = watch(SignalKind::terminate());
    loop {
        tokio::select! {
            response = responses.next() => {
                let Some(response) = response else {
                    anyhow::bail!("the exec call ended without the command's exit code");
                };
                match response.map_err(ServerError)?.response {
                    Some(Output::Stdout(data)) => write(std::io::stdout().lock(), &data)?,
                    Some(Output::Stderr(data)) => write(std::io::stderr().lock(), &data)?,
                    Some(Output::ExitCode(code)) => return Ok(code),
                    None => {}
                }
            }
            Some(()) = next(&mut resized) => {
                if let Some(size) = terminal::size() {
                    let _ = requests.send(input(Input::Resize(size))).await;
                }
            }
            Some(()) = next(&mut hangup) => anyhow::bail!("terminal hung up"),
            Some(()) = next(&mut terminate) => anyhow::bail!("terminated"),
        }
    }
}

/// Output goes out as it comes (a prompt has no newline to flush it).
fn write(mut out: impl Write, data: &[u8]) -> std::io::Result<()> {
    out.write_all(data)?;
    out.flush()
}

/// The next delivery of a signal; never, for one not watched.
async fn next(signal: &mut Option<Signal>) -> Option<()> {
    match signal {
        Some(signal) => signal.recv().await,
        None => std::future::pending().await,
    }
}
