//! The remotecommand protocol behind `kubectl exec` and `attach`, server side: over SPDY the
//! client opens one stream per channel (`error`, `stdin`, `stdout`, `stderr`, `resize`), over
//! a WebSocket the channels are numbered 0 to 4 in that order (stdin first) and there from the
//! start. The process's output goes out on `stdout`/`stderr`, and its end is reported on
//! `error`: from v4 as a JSON `metav1.Status` whose `ExitCode` cause kubectl exits with, before
//! v4 as a message only when it failed.

use std::convert::Infallible;
use std::fmt::Display;
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream as FuturesStream, StreamExt};
use serde::Deserialize;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tracing::{debug, warn};

use super::connection::{Session, Stream, StreamWriter};
use super::upgrade::{Connection, Protocol};
use super::websocket::Channels;

/// How long the client has to open every stream it announced, as a kubelet allows.
const STREAM_CREATION_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest resize message buffered while incomplete.
const MAX_RESIZE_MESSAGE: usize = 64 * 1024;

/// What goes wrong setting up or running an exec session.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("query parameter {name}={value:?} is not a boolean")]
    Bool { name: String, value: String },
    #[error("you must specify at least 1 of stdin, stdout, stderr")]
    NoStreams,
    #[error("timed out waiting for the client to open its streams")]
    Timeout,
    #[error("the client went away before opening its streams")]
    Incomplete,
}

/// The request's query: what to run and which channels the client wants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOptions {
    /// Empty for `attach`.
    pub command: Vec<String>,
    pub container: Option<String>,
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub tty: bool,
}

impl ExecOptions {
    /// Reads `command`, `container`, `stdin`, `stdout`, `stderr` and `tty` from a query string
    /// (without the `?`). With a terminal there is no separate stderr, as in a kubelet.
    pub fn from_query(query: &str) -> Result<Self, ExecError> {
        let mut options = ExecOptions::default();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let flag = match name.as_ref() {
                "command" => {
                    options.command.push(value.into_owned());
                    continue;
                }
                "container" => {
                    options.container = Some(value.into_owned());
                    continue;
                }
                "stdin" => &mut options.stdin,
                "stdout" => &mut options.stdout,
                "stderr" => &mut options.stderr,
                "tty" => &mut options.tty,
                _ => continue,
            };
            *flag = parse_bool(&value).ok_or_else(|| ExecError::Bool {
                name: name.clone().into_owned(),
                value: value.clone().into_owned(),
            })?;
        }
        if !(options.stdin || options.stdout || options.stderr) {
            return Err(ExecError::NoStreams);
        }
        options.stderr &= !options.tty;
        Ok(options)
    }
}

/// Booleans as Go's `strconv.ParseBool` reads them, which is what kubectl's peers accept.
fn parse_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// A terminal size sent on the resize stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct TerminalSize {
    #[serde(rename = "Width")]
    pub width: u16,
    #[serde(rename = "Height")]
    pub height: u16,
}

/// Which of the process's outputs a chunk came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Stdout,
    Stderr,
}

/// The running process, however the runtime provides it.
pub struct Process<I, O, R, X> {
    /// Its standard input, if it has one; shut down when the client's stdin ends.
    pub stdin: Option<I>,
    /// Its output, ending when the process closes its stdout and stderr.
    pub output: O,
    /// Called with each terminal size the client sends.
    pub resize: R,
    /// Its exit code once it ended, or why it could not be known.
    pub exit: X,
}

/// A channel the client sends on, whatever carries it.
type Reader = Box<dyn AsyncRead + Send + Unpin>;
/// A channel the client reads, whatever carries it.
type Writer = Box<dyn AsyncWrite + Send + Unpin>;

/// The channels' numbers on a WebSocket.
const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const ERROR: u8 = 3;
const RESIZE: u8 = 4;
/// How many channels a WebSocket exec connection has.
pub const WEBSOCKET_CHANNELS: u8 = 5;

/// The client's streams, all open.
pub struct ExecStreams {
    transport: Transport,
    protocol: Protocol,
    command: Vec<String>,
    tty: bool,
    error: Writer,
    stdin: Option<Reader>,
    stdout: Option<Writer>,
    stderr: Option<Writer>,
    resize: Option<Reader>,
}

/// What is closed once the session is over.
enum Transport {
    Spdy {
        session: Session,
        /// The writing halves of the streams only read from, which kubectl's stdin copier
        /// waits to see closed.
        keep: Vec<StreamWriter>,
    },
    WebSocket(Channels),
}

impl Transport {
    /// Lets what the output streams were given go out before anything written next. SPDY
    /// streams are told apart by the client whatever their order; WebSocket channels share
    /// one connection, see [`Channels::drained`].
    async fn drain_output(&mut self) {
        if let Transport::WebSocket(channels) = self {
            channels.drained(&[STDOUT, STDERR]).await;
        }
    }

    async fn close(self) {
        match self {
            Transport::Spdy { session, keep } => {
                drop(keep);
                session.close().await;
            }
            Transport::WebSocket(channels) => channels.close().await,
        }
    }
}

/// How the process ended, for the error stream.
enum Ending {
    Success,
    ExitCode(i64),
    Internal(String),
}

impl ExecStreams {
    /// The client's channels on `connection`: over SPDY, once it opened them; over a
    /// WebSocket, at once.
    pub async fn accept(
        connection: Connection,
        protocol: Protocol,
        options: &ExecOptions,
    ) -> Result<Self, ExecError> {
        match connection {
            Connection::Spdy(session) => Self::accept_spdy(session, protocol, options).await,
            Connection::WebSocket(channels) => {
                Ok(Self::over_websocket(channels, protocol, options).await)
            }
        }
    }

    /// Waits (up to 30 s) for the streams `options` announce: `error` always, `stdin`,
    /// `stdout` and `stderr` as asked, and `resize` with a terminal from v3. Streams of
    /// other or repeated types are refused.
    async fn accept_spdy(
        mut session: Session,
        protocol: Protocol,
        options: &ExecOptions,
    ) -> Result<Self, ExecError> {
        // Protocols order newest first: v4 and v3 have the resize stream.
        let wants_resize = options.tty && protocol <= Protocol::V3;
        let mut opened = Opened::default();
        let all_open = async {
            while !opened.complete(options, wants_resize) {
                let Some(stream) = session.accept().await else {
                    return Err(ExecError::Incomplete);
                };
                opened.add(stream);
            }
            Ok(())
        };
        tokio::time::timeout(STREAM_CREATION_TIMEOUT, all_open)
            .await
            .map_err(|_| ExecError::Timeout)??;
        let Some(error) = opened.error else {
            return Err(ExecError::Incomplete);
        };
        let mut keep = vec![];
        let stdin = opened.stdin.map(|s| reader_of(s, &mut keep));
        let resize = opened.resize.map(|s| reader_of(s, &mut keep));
        Ok(Self {
            protocol,
            command: options.command.clone(),
            tty: options.tty,
            error: writer_of(error),
            stdin,
            stdout: opened.stdout.map(writer_of),
            stderr: opened.stderr.map(writer_of),
            resize,
            transport: Transport::Spdy { session, keep },
        })
    }

    /// The channels `options` ask for, after the empty message on the first channel the client
    /// reads that tells it the session is up, as a kubelet sends it.
    async fn over_websocket(
        mut channels: Channels,
        protocol: Protocol,
        options: &ExecOptions,
    ) -> Self {
        let first = match (options.stdout, options.stderr) {
            (true, _) => STDOUT,
            (false, true) => STDERR,
            (false, false) => ERROR,
        };
        channels.announce(first, &[]).await;
        let mut take = |channel, wanted: bool| wanted.then(|| channels.take(channel)).flatten();
        let reader = |end: tokio::io::DuplexStream| -> Reader { Box::new(end) };
        let writer = |end: tokio::io::DuplexStream| -> Writer { Box::new(end) };
        let stdin = take(STDIN, options.stdin).map(reader);
        let stdout = take(STDOUT, options.stdout).map(writer);
        let stderr = take(STDERR, options.stderr).map(writer);
        let resize = take(RESIZE, options.tty).map(reader);
        let error = match take(ERROR, true) {
            Some(end) => writer(end),
            None => Box::new(tokio::io::sink()),
        };
        Self {
            protocol,
            command: options.command.clone(),
            tty: options.tty,
            error,
            stdin,
            stdout,
            stderr,
            resize,
            transport: Transport::WebSocket(channels),
        }
    }

    /// Runs the protocol for `process` to its end: stdin and resizes in, output out, then the
    /// exit status on the error stream, then the session closes.
    pub async fn run<I, O, R, X, E>(mut self, process: Process<I, O, R, X>)
    where
        I: AsyncWrite + Unpin,
        O: FuturesStream<Item = (Output, Bytes)> + Unpin,
        R: FnMut(TerminalSize),
        X: Future<Output = Result<i64, E>>,
        E: Display,
    {
        let Process {
            stdin,
            output,
            resize,
            exit,
        } = process;
        let (stdin_stream, resize_stream) = (self.stdin.take(), self.resize.take());
        let inputs = async {
            futures::join!(
                copy_stdin(stdin_stream, stdin),
                apply_resizes(resize_stream, resize),
            );
            std::future::pending::<Infallible>().await
        };
        let outputs = async {
            self.copy_output(output).await;
            exit.await
        };
        let ending = tokio::select! {
            exit = outputs => match exit {
                Ok(0) => Ending::Success,
                Ok(code) => Ending::ExitCode(code),
                Err(e) => Ending::Internal(e.to_string()),
            },
            never = inputs => match never {},
        };
        self.finish(ending).await;
    }

    /// Reports that the process could not be started, and closes the session.
    pub async fn fail(self, message: impl Display) {
        self.finish(Ending::Internal(message.to_string())).await;
    }

    async fn copy_output<O>(&mut self, mut output: O)
    where
        O: FuturesStream<Item = (Output, Bytes)> + Unpin,
    {
        while let Some((which, data)) = output.next().await {
            let slot = match which {
                Output::Stderr if !self.tty => &mut self.stderr,
                _ => &mut self.stdout,
            };
            if let Some(writer) = slot
                && let Err(e) = writer.write_all(&data).await
            {
                debug!(error = %e, "client stopped reading the process's output");
                *slot = None;
            }
        }
        // Dropping a writer sends its FIN.
        self.stdout = None;
        self.stderr = None;
    }

    async fn finish(self, ending: Ending) {
        let ExecStreams {
            mut transport,
            protocol,
            command,
            mut error,
            stdin,
            stdout,
            stderr,
            resize,
            ..
        } = self;
        drop((stdin, stdout, stderr, resize));
        transport.drain_output().await;
        let report = report(protocol, &command, &ending);
        if let Err(e) = error.write_all(&report).await {
            debug!(error = %e, "could not report the exec's end");
        }
        let _ = error.shutdown().await;
        drop(error);
        transport.close().await;
    }
}

/// What the error stream carries for `ending` in this protocol version.
fn report(protocol: Protocol, command: &[String], ending: &Ending) -> Vec<u8> {
    let status = match ending {
        Ending::Success => json!({"metadata": {}, "status": "Success"}),
        Ending::ExitCode(code) => json!({
            "metadata": {},
            "status": "Failure",
            "message": format!(
                "command terminated with non-zero exit code: error executing command [{}], exit code {code}",
                command.join(" ")
            ),
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]},
        }),
        Ending::Internal(message) => json!({
            "metadata": {},
            "status": "Failure",
            "message": format!("Internal error occurred: {message}"),
            "reason": "InternalError",
            "details": {"causes": [{"message": message}]},
            "code": 500,
        }),
    };
    match (protocol.reports_status(), ending) {
        (true, _) => status.to_string().into_bytes(),
        (false, Ending::Success) => Vec::new(),
        (false, _) => status["message"]
            .as_str()
            .unwrap_or_default()
            .as_bytes()
            .to_vec(),
    }
}

/// Streams opened so far, by type.
#[derive(Default)]
struct Opened {
    error: Option<Stream>,
    stdin: Option<Stream>,
    stdout: Option<Stream>,
    stderr: Option<Stream>,
    resize: Option<Stream>,
}

impl Opened {
    fn add(&mut self, stream: Stream) {
        let slot = match stream.headers.get("streamtype") {
            Some("error") => &mut self.error,
            Some("stdin") => &mut self.stdin,
            Some("stdout") => &mut self.stdout,
            Some("stderr") => &mut self.stderr,
            Some("resize") => &mut self.resize,
            other => {
                warn!(stream_type = ?other, "refusing an exec stream of unknown type");
                return stream.refuse();
            }
        };
        if slot.is_some() {
            warn!(stream_id = stream.id, "refusing a repeated exec stream");
            return stream.refuse();
        }
        *slot = Some(stream);
    }

    fn complete(&self, options: &ExecOptions, wants_resize: bool) -> bool {
        self.error.is_some()
            && (!options.stdin || self.stdin.is_some())
            && (!options.stdout || self.stdout.is_some())
            && (!options.stderr || self.stderr.is_some())
            && (!wants_resize || self.resize.is_some())
    }
}

/// The reading half of a stream only read from; its writer is kept to close at the end, which
/// kubectl's stdin copier waits for.
fn reader_of(stream: Stream, keep: &mut Vec<StreamWriter>) -> Reader {
    keep.push(stream.writer);
    Box::new(stream.reader)
}

/// The writing half of a stream only written to; what the client might send on it is dropped.
fn writer_of(stream: Stream) -> Writer {
    Box::new(stream.writer)
}

/// Copies the client's stdin to the process's until either ends, then closes the process's.
async fn copy_stdin<I: AsyncWrite + Unpin>(from: Option<Reader>, to: Option<I>) {
    match (from, to) {
        (Some(mut from), Some(mut to)) => {
            if let Err(e) = tokio::io::copy(&mut from, &mut to).await {
                debug!(error = %e, "stdin copy ended");
            }
            let _ = to.shutdown().await;
        }
        (Some(mut from), None) => {
            let _ = tokio::io::copy(&mut from, &mut tokio::io::sink()).await;
        }
        (None, Some(mut to)) => {
            let _ = to.shutdown().await;
        }
        (None, None) => {}
    }
}

/// Reads the JSON terminal sizes the client sends, one after another, and applies each.
async fn apply_resizes<F>(from: Option<F>, mut resize: impl FnMut(TerminalSize))
where
    F: AsyncRead + Unpin,
{
    let Some(mut from) = from else { return };
    let mut buf = Vec::new();
    let mut chunk = [0; 1024];
    while let Ok(n @ 1..) = from.read(&mut chunk).await {
        buf.extend_from_slice(&chunk[..n]);
        let mut sizes = serde_json::Deserializer::from_slice(&buf).into_iter::<TerminalSize>();
        for size in sizes.by_ref() {
            match size {
                Ok(size) => resize(size),
                Err(e) if e.is_eof() => break,
                Err(e) => {
                    warn!(error = %e, "ignoring the rest of a malformed resize stream");
                    return;
                }
            }
        }
        let consumed = sizes.byte_offset();
        buf.drain(..consumed);
        if buf.len() > MAX_RESIZE_MESSAGE {
            warn!("ignoring the rest of a resize stream sending an endless message");
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_come_from_kubectls_query() {
        let query =
            "command=sh&command=-c&command=exit+3&container=c&stderr=true&stdin=true&stdout=true";
        let options = ExecOptions::from_query(query).unwrap();
        assert_eq!(
            options,
            ExecOptions {
                command: vec!["sh".into(), "-c".into(), "exit 3".into()],
                container: Some("c".into()),
                stdin: true,
                stdout: true,
                stderr: true,
                tty: false,
            }
        );
        let tty = ExecOptions::from_query("stdin=1&stdout=1&stderr=1&tty=1").unwrap();
        assert!(tty.tty && !tty.stderr, "a terminal has no separate stderr");
        assert!(matches!(
            ExecOptions::from_query("stdout=yes"),
            Err(ExecError::Bool { .. })
        ));
        assert!(matches!(
            ExecOptions::from_query("command=ls&tty=true"),
            Err(ExecError::NoStreams)
        ));
    }

    #[test]
    fn v4_reports_a_status_kubectl_reads_the_exit_code_from() {
        let command = ["sh".to_owned(), "-c".to_owned(), "exit 3".to_owned()];
        let success = report(Protocol::V4, &command, &Ending::Success);
        assert_eq!(success, br#"{"metadata":{},"status":"Success"}"#);
        let failure: serde_json::Value =
            serde_json::from_slice(&report(Protocol::V4, &command, &Ending::ExitCode(3))).unwrap();
        assert_eq!(
            failure,
            json!({
                "metadata": {},
                "status": "Failure",
                "message": "command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3",
                "reason": "NonZeroExitCode",
                "details": {"causes": [{"reason": "ExitCode", "message": "3"}]},
            })
        );
        let internal: serde_json::Value = serde_json::from_slice(&report(
            Protocol::V4,
            &command,
            &Ending::Internal("no such container".into()),
        ))
        .unwrap();
        assert_eq!(internal["reason"], "InternalError");
        assert_eq!(internal["code"], 500);
    }

    #[test]
    fn older_versions_report_failures_only_as_text() {
        for protocol in [Protocol::V1, Protocol::V2, Protocol::V3] {
            assert!(report(protocol, &[], &Ending::Success).is_empty());
            let text = report(protocol, &[], &Ending::ExitCode(2));
            assert_eq!(
                String::from_utf8(text).unwrap(),
                "command terminated with non-zero exit code: error executing command [], exit code 2"
            );
        }
    }

    #[tokio::test]
    async fn resizes_are_read_across_reads_and_stop_at_garbage() {
        let (mut client, server) = tokio::io::duplex(1024);
        let mut sizes = Vec::new();
        let reading = apply_resizes(Some(server), |size| sizes.push(size));
        let writing = async {
            client
                .write_all(br#"{"Width":80,"Height":24}"#)
                .await
                .unwrap();
            client.write_all(b"\n{\"Width\":1").await.unwrap();
            tokio::task::yield_now().await;
            client.write_all(b"20,\"Height\":40}\n").await.unwrap();
            client
                .write_all(b"garbage {\"Width\":1,\"Height\":1}")
                .await
                .unwrap();
            drop(client);
        };
        futures::join!(reading, writing);
        let size = |width, height| TerminalSize { width, height };
        assert_eq!(sizes, [size(80, 24), size(120, 40)]);
    }
}
