//! `rkctl logs POD [-c NAME] [-f] [--previous] [--tail N] [--timestamps]`:
//! a container's output as the kubelet has it, written to stdout unchanged.

use super::pod_arg::pod_name;
use super::Context;
use crate::errors::ServerError;
use futures::StreamExt;
use rk_proto::streaming::pod_streaming_client::PodStreamingClient;
use rk_proto::streaming::PodLogRequest;
use rk_proto::v1::Pod;
use std::io::ErrorKind;
use std::io::Write;

#[derive(clap::Args, Debug)]
pub struct LogsArgs {
    /// The pod: NAME or pod/NAME.
    pod: String,
    /// The container (default: the pod's first).
    #[arg(short = 'c', long)]
    container: Option<String>,
    /// Keep printing what the container writes until it ends.
    #[arg(short = 'f', long)]
    follow: bool,
    /// The previous instance of the container (the one that last terminated).
    #[arg(short = 'p', long)]
    previous: bool,
    /// Only the last N lines; -1 for all.
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    tail: i64,
    /// Start every line with its RFC 3339 time.
    #[arg(long)]
    timestamps: bool,
}

pub async fn run(ctx: &Context, args: LogsArgs) -> anyhow::Result<()> {
    let pod = pod_name(&args.pod)?;
    let tail_lines = match args.tail {
        -1 => None,
        n if n >= 0 => Some(n),
        n => anyhow::bail!("--tail must be -1 (all lines) or a number of lines, got {n}"),
    };
    let request = PodLogRequest {
        namespace: ctx.namespace_for::<Pod>(),
        pod,
        container: args.container.unwrap_or_default(),
        follow: args.follow,
        previous: args.previous,
        tail_lines,
        timestamps: args.timestamps,
        pod_uid: String::new(),
    };
    let mut streaming = PodStreamingClient::new(ctx.client().await?.channel());
    let mut log = streaming.logs(request).await.map_err(ServerError)?.into_inner();
    while let Some(chunk) = log.next().await {
        let chunk = chunk.map_err(ServerError)?;
        // Whoever reads the output may stop early (`| head`): that is not an error.
        let mut stdout = std::io::stdout().lock();
        match stdout.write_all(&chunk.data).and_then(|()| stdout.flush()) {
            Err(error) if error.kind() == ErrorKind::BrokenPipe => return Ok(()),
            other => other?,
        }
    }
    Ok(())
}
