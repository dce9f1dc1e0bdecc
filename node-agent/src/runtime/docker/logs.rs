//! A container's log from the engine's json-file log: stdout and stderr interleaved as written,
//! with the engine's RFC 3339 timestamps when asked (the format kubectl shows), cut at
//! `limitBytes`.

use bollard::Docker;
use bollard::query_parameters::LogsOptionsBuilder;
use futures::StreamExt;

use crate::runtime::{LogOptions, LogStream, RuntimeError};

/// Streams the log of the container `id`.
pub fn stream(docker: &Docker, id: &str, options: &LogOptions) -> LogStream {
    let since = options.since_seconds.map_or(0, |seconds| {
        let now = jiff::Timestamp::now().as_second();
        i32::try_from(now.saturating_sub(i64::try_from(seconds).unwrap_or(i64::MAX))).unwrap_or(0)
    });
    let request = LogsOptionsBuilder::default()
        .follow(options.follow)
        .stdout(true)
        .stderr(true)
        .timestamps(options.timestamps)
        .since(since)
        .tail(
            &options
                .tail_lines
                .map_or("all".to_owned(), |n| n.to_string()),
        )
        .build();
    let id = id.to_owned();
    let lines = docker.logs(&id, Some(request)).map(move |chunk| {
        chunk
            .map(|output| output.into_bytes())
            .map_err(|error| RuntimeError::Engine(format!("reading the log of {id}: {error}")))
    });
    match options.limit_bytes {
        Some(limit) => limited(lines, limit),
        None => lines.boxed(),
    }
}

/// Ends the stream once `limit` bytes have gone out, cutting the last chunk to fit.
fn limited(
    stream: impl futures::Stream<Item = Result<bytes::Bytes, RuntimeError>> + Send + 'static,
    limit: u64,
) -> LogStream {
    stream
        .scan(limit, |left, chunk| {
            let out = match chunk {
                Ok(_) if *left == 0 => None,
                Ok(mut bytes) => {
                    let keep = usize::try_from(*left)
                        .unwrap_or(usize::MAX)
                        .min(bytes.len());
                    bytes.truncate(keep);
                    *left -= keep as u64;
                    Some(Ok(bytes))
                }
                Err(error) => Some(Err(error)),
            };
            futures::future::ready(out)
        })
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[tokio::test]
    async fn a_limit_cuts_the_stream_at_that_many_bytes() {
        let chunks = futures::stream::iter(
            ["hello\n", "world\n", "again\n"].map(|s| Ok(Bytes::from_static(s.as_bytes()))),
        );
        let read: Vec<Bytes> = limited(chunks, 8)
            .map(|chunk| chunk.unwrap())
            .collect()
            .await;
        assert_eq!(read.concat(), b"hello\nwo");
    }
}
