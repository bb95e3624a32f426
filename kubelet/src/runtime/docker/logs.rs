//! A container's output, as `docker logs` reads it from the json-file log.

use bollard::container::LogOutput;
use bollard::query_parameters::LogsOptionsBuilder;
use bollard::Docker;
use futures::stream::BoxStream;
use futures::StreamExt;

use super::errors::{container_error, docker_error};
use crate::runtime::{LogOptions, RuntimeResult};

/// Stdout and stderr interleaved as written, raw bytes (with Docker's RFC 3339
/// timestamps before each line when asked).
pub(super) async fn logs(
    docker: &Docker,
    id: &str,
    options: LogOptions,
) -> RuntimeResult<BoxStream<'static, RuntimeResult<bytes::Bytes>>> {
    // The stream reports errors only once read: say "not found" up front.
    docker.inspect_container(id, None).await.map_err(|e| container_error(id, "reading the logs of", e))?;
    let tail = options.tail_lines.map_or_else(|| "all".to_string(), |lines| lines.to_string());
    let query = LogsOptionsBuilder::new()
        .stdout(true)
        .stderr(true)
        .follow(options.follow)
        .timestamps(options.timestamps)
        .tail(&tail)
        .build();
    let id = id.to_string();
    Ok(docker
        .logs(&id, Some(query))
        .filter_map(move |item| {
            let result = match item {
                Ok(LogOutput::StdIn { .. }) => None,
                Ok(output) => Some(Ok(output.into_bytes())),
                Err(e) => Some(Err(docker_error(&format!("reading the logs of container {id}"), e))),
            };
            async move { result }
        })
        .boxed())
}
