//! A SPDY/3.1 session over an upgraded connection, server side: the peer (kubectl, through the
//! API server) opens streams, this side answers each with SYN_REPLY and hands it to the
//! application with its headers and an async reader and writer.
//!
//! Two tasks own the connection's halves. The reader decodes frames and routes data to each
//! stream's bounded buffer; when the application stops reading a stream the reader waits, and
//! TCP pushes back on the peer, as spdystream does. The writer owns the outgoing header
//! compression context, so every frame, SYN_REPLY and data alike, goes through one ordered
//! queue; a byte budget shared by the streams' writers bounds what is queued.
//!
//! Flow control: spdystream neither sends WINDOW_UPDATE nor honours one, so the SPDY/3.1
//! windows never move. This side therefore sends no WINDOW_UPDATE, ignores those it gets, and
//! never holds data back for a window, which is what kubectl's peers (kubelets) do too.

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::{CancellationToken, PollSemaphore};
use tracing::{debug, warn};

use super::frame::{FLAG_FIN, Frame, FrameError, goaway, status};
use super::headers::{HeaderDecoder, HeaderEncoder, HeaderError, Headers};

/// The largest data frame sent: small enough to interleave streams fairly.
const MAX_DATA_FRAME: usize = 32 * 1024;
/// Bytes the streams' writers may queue ahead of the connection.
const SEND_BUDGET: usize = 1024 * 1024;
/// Data frames buffered per stream before the reader waits for the application.
const STREAM_BUFFER: usize = 16;
/// Streams opened but not yet taken by the application.
const ACCEPT_BACKLOG: usize = 64;
/// How long a closing session keeps reading (and discarding) so the peer's last frames do not
/// turn our close into a reset that could destroy the answer it has not read yet.
const LINGER: Duration = Duration::from_secs(5);

/// What ends a session abnormally.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("connection: {0}")]
    Io(#[from] io::Error),
    #[error("framing: {0}")]
    Frame(#[from] FrameError),
    #[error("{0}")]
    Header(#[from] HeaderError),
}

/// One SPDY session. Dropping it tears the connection down at once; [`Session::close`] ends
/// it gracefully.
pub struct Session {
    incoming: mpsc::Receiver<Stream>,
    out: mpsc::UnboundedSender<Outgoing>,
    closing: CancellationToken,
    tasks: JoinSet<()>,
}

impl Session {
    /// Starts serving SPDY on `io`, a connection just upgraded. Must run inside a Tokio runtime.
    pub fn new<T>(io: T) -> Result<Self, SessionError>
    where
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let encoder = HeaderEncoder::new()?;
        let (read_half, write_half) = tokio::io::split(io);
        let (out, out_rx) = mpsc::unbounded_channel();
        let (accept_tx, incoming) = mpsc::channel(ACCEPT_BACKLOG);
        let last_stream = Arc::new(AtomicU32::new(0));
        let closing = CancellationToken::new();
        let mut tasks = JoinSet::new();
        let writer = Writer {
            io: write_half,
            rx: out_rx,
            encoder,
            last_stream: last_stream.clone(),
        };
        let failed = closing.clone();
        tasks.spawn(async move {
            if let Err(e) = writer.run().await {
                debug!(error = %e, "SPDY session could not write");
                failed.cancel();
            }
        });
        let reader = Reader {
            io: read_half,
            buf: BytesMut::new(),
            decoder: HeaderDecoder::new(),
            streams: HashMap::new(),
            accept: accept_tx,
            out: out.clone(),
            budget: Arc::new(Semaphore::new(SEND_BUDGET)),
            last_stream,
        };
        tasks.spawn(reader.run(closing.clone()));
        Ok(Self {
            incoming,
            out,
            closing,
            tasks,
        })
    }

    /// The next stream the peer opened, already answered with SYN_REPLY; `None` once the peer
    /// has closed the connection or the session failed.
    pub async fn accept(&mut self) -> Option<Stream> {
        self.incoming.recv().await
    }

    /// Ends the session: GOAWAY after every frame already queued, then the end of our half
    /// of the connection, then a short wait for the peer to close its half.
    pub async fn close(mut self) {
        // An error means the writer is gone already, and with it the connection.
        let _ = self.out.send(Outgoing::Close(goaway::OK));
        self.closing.cancel();
        while self.tasks.join_next().await.is_some() {}
    }
}

/// A stream the peer opened.
pub struct Stream {
    pub id: u32,
    pub headers: Headers,
    pub reader: StreamReader,
    pub writer: StreamWriter,
}

impl Stream {
    /// Rejects the stream (RST_STREAM REFUSED_STREAM), for a stream of a kind not expected.
    pub fn refuse(self) {
        self.writer.reset_with(status::REFUSED_STREAM);
    }
}

/// How the peer's half of a stream ended, set before its buffer's sender is dropped so the
/// application's reader can tell a clean end from a reset.
const OPEN: u8 = 0;
const FINISHED: u8 = 1;
const RESET: u8 = 2;
const ABORTED: u8 = 3;

#[derive(Default)]
struct StreamState {
    remote: AtomicU8,
    local_done: AtomicBool,
}

impl StreamState {
    fn remote(&self) -> u8 {
        self.remote.load(Ordering::Acquire)
    }

    fn set_remote(&self, end: u8) {
        self.remote.store(end, Ordering::Release);
    }
}

/// The reading half of a stream: the peer's data until its FIN (end of file), or an error if
/// the peer reset the stream (`ConnectionReset`) or the session ended (`ConnectionAborted`).
pub struct StreamReader {
    rx: mpsc::Receiver<Bytes>,
    pending: Bytes,
    state: Arc<StreamState>,
}

impl AsyncRead for StreamReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            if !self.pending.is_empty() {
                let n = self.pending.len().min(buf.remaining());
                buf.put_slice(&self.pending.split_to(n));
                return Poll::Ready(Ok(()));
            }
            match ready!(self.rx.poll_recv(cx)) {
                Some(data) => self.pending = data,
                None => {
                    return Poll::Ready(match self.state.remote() {
                        FINISHED => Ok(()),
                        RESET => Err(io::Error::new(
                            io::ErrorKind::ConnectionReset,
                            "stream reset by the peer",
                        )),
                        _ => Err(io::Error::new(
                            io::ErrorKind::ConnectionAborted,
                            "SPDY session ended",
                        )),
                    });
                }
            }
        }
    }
}

/// The writing half of a stream. Shutting it down (or dropping it) sends FIN; writes fail once
/// the peer reset the stream or the session ended.
pub struct StreamWriter {
    id: u32,
    out: mpsc::UnboundedSender<Outgoing>,
    budget: PollSemaphore,
    state: Arc<StreamState>,
    finished: bool,
}

impl StreamWriter {
    /// Abandons the stream with RST_STREAM CANCEL instead of a clean FIN.
    pub fn reset(self) {
        self.reset_with(status::CANCEL);
    }

    fn reset_with(mut self, status: u32) {
        self.finish();
        let stream_id = self.id;
        let _ = self.out.send(Outgoing::Frame(
            Frame::RstStream { stream_id, status },
            None,
        ));
    }

    /// Marks our half done; true the first time.
    fn finish(&mut self) -> bool {
        let first = !self.finished;
        self.finished = true;
        self.state.local_done.store(true, Ordering::Release);
        first
    }

    fn send_fin(&mut self) {
        if self.finish() {
            let frame = Frame::Data {
                stream_id: self.id,
                fin: true,
                data: Bytes::new(),
            };
            let _ = self.out.send(Outgoing::Frame(frame, None));
        }
    }
}

impl AsyncWrite for StreamWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.finished {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "stream already finished",
            )));
        }
        match self.state.remote() {
            RESET => {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::ConnectionReset,
                    "stream reset by the peer",
                )));
            }
            ABORTED => return Poll::Ready(Err(session_gone())),
            _ => {}
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let n = buf.len().min(MAX_DATA_FRAME);
        // n is at most MAX_DATA_FRAME, well within u32.
        let Some(permit) = ready!(self.budget.poll_acquire_many(cx, n as u32)) else {
            return Poll::Ready(Err(session_gone()));
        };
        let frame = Frame::Data {
            stream_id: self.id,
            fin: false,
            data: Bytes::copy_from_slice(&buf[..n]),
        };
        match self.out.send(Outgoing::Frame(frame, Some(permit))) {
            Ok(()) => Poll::Ready(Ok(n)),
            Err(_) => Poll::Ready(Err(session_gone())),
        }
    }

    /// Frames are written in the order queued, so there is nothing to wait for here.
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.send_fin();
        Poll::Ready(Ok(()))
    }
}

impl Drop for StreamWriter {
    fn drop(&mut self) {
        self.send_fin();
    }
}

fn session_gone() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "SPDY session ended")
}

/// What the writer task is asked to send.
enum Outgoing {
    /// A frame without a header block; a data frame carries the budget it holds until written.
    Frame(Frame, Option<OwnedSemaphorePermit>),
    /// SYN_REPLY with no headers, as a kubelet answers.
    Reply(u32),
    /// GOAWAY with this status, then the end of the connection's writing half.
    Close(u32),
}

struct Writer<W> {
    io: W,
    rx: mpsc::UnboundedReceiver<Outgoing>,
    encoder: HeaderEncoder,
    last_stream: Arc<AtomicU32>,
}

impl<W: AsyncWrite + Unpin> Writer<W> {
    async fn run(mut self) -> Result<(), SessionError> {
        let mut buf = BytesMut::new();
        while let Some(first) = self.rx.recv().await {
            // Batch whatever else is queued into one write.
            let mut permits = Vec::new();
            let mut next = Some(first);
            let mut closing = false;
            while let Some(msg) = next {
                match msg {
                    Outgoing::Frame(frame, permit) => {
                        frame.encode(&mut buf)?;
                        permits.extend(permit);
                    }
                    Outgoing::Reply(stream_id) => {
                        let header_block = self.encoder.encode(&Headers::new())?;
                        Frame::SynReply {
                            stream_id,
                            fin: false,
                            header_block,
                        }
                        .encode(&mut buf)?;
                    }
                    Outgoing::Close(status) => {
                        let last_good_stream_id = self.last_stream.load(Ordering::Acquire);
                        Frame::GoAway {
                            last_good_stream_id,
                            status,
                        }
                        .encode(&mut buf)?;
                        closing = true;
                        break;
                    }
                }
                next = if buf.len() < SEND_BUDGET {
                    self.rx.try_recv().ok()
                } else {
                    None
                };
            }
            self.io.write_all(&buf).await?;
            self.io.flush().await?;
            buf.clear();
            drop(permits);
            if closing {
                self.io.shutdown().await?;
                return Ok(());
            }
        }
        Ok(())
    }
}

/// The reader task's record of a stream the peer opened.
struct Entry {
    /// The application's buffer; `None` once the peer finished or reset its half.
    tx: Option<mpsc::Sender<Bytes>>,
    state: Arc<StreamState>,
}

impl Entry {
    fn end(&mut self, how: u8) {
        if self.state.remote() == OPEN {
            self.state.set_remote(how);
        }
        self.tx = None;
    }
}

struct Reader<R> {
    io: R,
    buf: BytesMut,
    decoder: HeaderDecoder,
    streams: HashMap<u32, Entry>,
    accept: mpsc::Sender<Stream>,
    out: mpsc::UnboundedSender<Outgoing>,
    budget: Arc<Semaphore>,
    last_stream: Arc<AtomicU32>,
}

impl<R: AsyncRead + Unpin> Reader<R> {
    async fn run(mut self, closing: CancellationToken) {
        let ended = tokio::select! {
            result = self.serve() => Some(result),
            () = closing.cancelled() => None,
        };
        for entry in self.streams.values_mut() {
            entry.end(ABORTED);
        }
        self.streams.clear();
        match ended {
            Some(Ok(())) => debug!("SPDY peer closed the connection"),
            Some(Err(e)) => {
                warn!(error = %e, "ending SPDY session");
                let _ = self.out.send(Outgoing::Close(goaway::PROTOCOL_ERROR));
            }
            None => {
                let mut sink = vec![0; 16 * 1024];
                let drain = async { while matches!(self.io.read(&mut sink).await, Ok(1..)) {} };
                let _ = tokio::time::timeout(LINGER, drain).await;
            }
        }
    }

    async fn serve(&mut self) -> Result<(), SessionError> {
        loop {
            while let Some(frame) = Frame::decode(&mut self.buf)? {
                self.handle(frame).await?;
            }
            self.buf.reserve(16 * 1024);
            if self.io.read_buf(&mut self.buf).await? == 0 {
                if !self.buf.is_empty() {
                    debug!(
                        bytes = self.buf.len(),
                        "SPDY connection ended inside a frame"
                    );
                }
                return Ok(());
            }
        }
    }

    async fn handle(&mut self, frame: Frame) -> Result<(), SessionError> {
        match frame {
            Frame::SynStream {
                stream_id,
                flags,
                header_block,
                ..
            } => {
                // Decoded even if refused: the compression context spans every block.
                let headers = self.decoder.decode(&header_block)?;
                self.open(stream_id, flags, headers).await;
            }
            Frame::SynReply { header_block, .. } => {
                self.decoder.decode(&header_block)?;
            }
            Frame::Headers {
                stream_id,
                fin,
                header_block,
            } => {
                self.decoder.decode(&header_block)?;
                if fin && let Some(entry) = self.streams.get_mut(&stream_id) {
                    entry.end(FINISHED);
                }
            }
            Frame::Data {
                stream_id,
                fin,
                data,
            } => self.data(stream_id, fin, data).await,
            Frame::RstStream { stream_id, status } => {
                debug!(stream_id, status, "SPDY stream reset by the peer");
                if let Some(mut entry) = self.streams.remove(&stream_id) {
                    entry.end(RESET);
                }
            }
            // Pings from the peer carry odd ids; ours would be even, and we send none.
            Frame::Ping { id } if id % 2 == 1 => {
                let _ = self.out.send(Outgoing::Frame(Frame::Ping { id }, None));
            }
            Frame::GoAway { .. } => debug!("SPDY peer is going away"),
            other => debug!(frame = ?other, "ignoring SPDY frame"),
        }
        Ok(())
    }

    async fn open(&mut self, stream_id: u32, flags: u8, headers: Headers) {
        let last = self.last_stream.load(Ordering::Acquire);
        if stream_id.is_multiple_of(2) || stream_id <= last {
            warn!(stream_id, last, "refusing a SPDY stream id out of sequence");
            let reset = Frame::RstStream {
                stream_id,
                status: status::PROTOCOL_ERROR,
            };
            let _ = self.out.send(Outgoing::Frame(reset, None));
            return;
        }
        self.last_stream.store(stream_id, Ordering::Release);
        self.sweep();
        let state = Arc::new(StreamState::default());
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        let mut entry = Entry {
            tx: Some(tx),
            state: state.clone(),
        };
        if flags & FLAG_FIN != 0 {
            entry.end(FINISHED);
        }
        self.streams.insert(stream_id, entry);
        let _ = self.out.send(Outgoing::Reply(stream_id));
        let stream = Stream {
            id: stream_id,
            headers,
            reader: StreamReader {
                rx,
                pending: Bytes::new(),
                state: state.clone(),
            },
            writer: StreamWriter {
                id: stream_id,
                out: self.out.clone(),
                budget: PollSemaphore::new(self.budget.clone()),
                state,
                finished: false,
            },
        };
        // If the application no longer accepts streams, the stream drops here: FIN, no data.
        let _ = self.accept.send(stream).await;
    }

    async fn data(&mut self, stream_id: u32, fin: bool, data: Bytes) {
        let Some(entry) = self.streams.get_mut(&stream_id) else {
            debug!(stream_id, "data for a SPDY stream no longer open");
            return;
        };
        if !data.is_empty()
            && let Some(tx) = &entry.tx
            && tx.send(data).await.is_err()
        {
            debug!(stream_id, "data for a SPDY stream nobody reads");
        }
        if fin {
            entry.end(FINISHED);
        }
    }

    /// Forgets streams that are over on both sides, or over on the peer's and abandoned here.
    fn sweep(&mut self) {
        self.streams.retain(|_, e| {
            e.tx.is_some()
                || !(e.state.local_done.load(Ordering::Acquire) || Arc::strong_count(&e.state) == 1)
        });
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::DuplexStream;

    use super::*;

    /// The client end of a session, speaking raw frames.
    struct Peer {
        io: DuplexStream,
        encoder: HeaderEncoder,
        decoder: HeaderDecoder,
        buf: BytesMut,
    }

    impl Peer {
        fn connect() -> (Session, Peer) {
            let (ours, theirs) = tokio::io::duplex(1024 * 1024);
            let peer = Peer {
                io: theirs,
                encoder: HeaderEncoder::new().unwrap(),
                decoder: HeaderDecoder::new(),
                buf: BytesMut::new(),
            };
            (Session::new(ours).unwrap(), peer)
        }

        async fn send(&mut self, frame: Frame) {
            let mut wire = BytesMut::new();
            frame.encode(&mut wire).unwrap();
            self.io.write_all(&wire).await.unwrap();
        }

        async fn open(&mut self, stream_id: u32, stream_type: &str) {
            let mut headers = Headers::new();
            headers.insert("streamtype", stream_type);
            let header_block = self.encoder.encode(&headers).unwrap();
            self.send(Frame::SynStream {
                stream_id,
                associated_to: 0,
                priority: 0,
                flags: 0,
                header_block,
            })
            .await;
        }

        async fn data(&mut self, stream_id: u32, data: &'static [u8], fin: bool) {
            let data = Bytes::from_static(data);
            self.send(Frame::Data {
                stream_id,
                fin,
                data,
            })
            .await;
        }

        /// The next frame from the session, `None` at the end of the connection.
        async fn next(&mut self) -> Option<Frame> {
            loop {
                if let Some(frame) = Frame::decode(&mut self.buf).unwrap() {
                    return Some(frame);
                }
                if self.io.read_buf(&mut self.buf).await.unwrap() == 0 {
                    return None;
                }
            }
        }

        async fn expect_reply(&mut self, id: u32) {
            match self.next().await {
                Some(Frame::SynReply {
                    stream_id,
                    fin: false,
                    header_block,
                }) if stream_id == id => {
                    assert_eq!(self.decoder.decode(&header_block).unwrap(), Headers::new());
                }
                other => panic!("expected SYN_REPLY {id}, got {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn streams_carry_data_both_ways_and_end_with_fin() {
        let (mut session, mut peer) = Peer::connect();
        peer.open(1, "stdin").await;
        peer.open(3, "stdout").await;
        peer.expect_reply(1).await;
        peer.expect_reply(3).await;
        let mut stdin = session.accept().await.unwrap();
        let stdout = session.accept().await.unwrap();
        assert_eq!(
            (stdin.id, stdin.headers.get("streamtype")),
            (1, Some("stdin"))
        );
        assert_eq!(stdout.headers.get("streamtype"), Some("stdout"));

        peer.data(1, b"hello ", false).await;
        peer.data(1, b"world", true).await;
        let mut received = String::new();
        stdin.reader.read_to_string(&mut received).await.unwrap();
        assert_eq!(received, "hello world");

        let mut writer = stdout.writer;
        writer.write_all(b"out").await.unwrap();
        writer.shutdown().await.unwrap();
        assert!(
            writer.write_all(b"late").await.is_err(),
            "no writes after FIN"
        );
        let expected = [
            Frame::Data {
                stream_id: 3,
                fin: false,
                data: Bytes::from_static(b"out"),
            },
            Frame::Data {
                stream_id: 3,
                fin: true,
                data: Bytes::new(),
            },
        ];
        for frame in expected {
            assert_eq!(peer.next().await, Some(frame));
        }
        // Dropping an unfinished writer finishes it.
        drop(stdin.writer);
        assert_eq!(
            peer.next().await,
            Some(Frame::Data {
                stream_id: 1,
                fin: true,
                data: Bytes::new()
            })
        );

        drop(peer.io);
        assert!(session.accept().await.is_none());
    }

    #[tokio::test]
    async fn a_reset_fails_the_streams_reader_and_writer() {
        let (mut session, mut peer) = Peer::connect();
        peer.open(1, "data").await;
        peer.expect_reply(1).await;
        let mut stream = session.accept().await.unwrap();
        peer.send(Frame::RstStream {
            stream_id: 1,
            status: status::CANCEL,
        })
        .await;
        let mut buf = [0; 8];
        let err = stream.reader.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
        let err = stream.writer.write_all(b"x").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
    }

    #[tokio::test]
    async fn pings_are_answered_and_refusals_reset() {
        let (mut session, mut peer) = Peer::connect();
        peer.send(Frame::Ping { id: 7 }).await;
        assert_eq!(peer.next().await, Some(Frame::Ping { id: 7 }));
        peer.open(1, "bogus").await;
        peer.expect_reply(1).await;
        session.accept().await.unwrap().refuse();
        assert_eq!(
            peer.next().await,
            Some(Frame::RstStream {
                stream_id: 1,
                status: status::REFUSED_STREAM
            })
        );
        // Stream ids must be odd and rise.
        peer.open(1, "again").await;
        assert_eq!(
            peer.next().await,
            Some(Frame::RstStream {
                stream_id: 1,
                status: status::PROTOCOL_ERROR
            })
        );
    }

    #[tokio::test]
    async fn a_malformed_frame_ends_the_session_with_goaway() {
        let (mut session, mut peer) = Peer::connect();
        peer.open(1, "stdin").await;
        peer.expect_reply(1).await;
        let mut stream = session.accept().await.unwrap();
        peer.io
            .write_all(&[0x80, 0x02, 0, 1, 0, 0, 0, 0])
            .await
            .unwrap();
        assert_eq!(
            peer.next().await,
            Some(Frame::GoAway {
                last_good_stream_id: 1,
                status: goaway::PROTOCOL_ERROR
            })
        );
        assert_eq!(peer.next().await, None, "the session closed the connection");
        assert!(session.accept().await.is_none());
        let err = stream.reader.read(&mut [0; 8]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionAborted);
    }

    #[tokio::test]
    async fn close_sends_goaway_and_ends_the_connection() {
        let (mut session, mut peer) = Peer::connect();
        peer.open(1, "error").await;
        peer.expect_reply(1).await;
        let stream = session.accept().await.unwrap();
        let mut writer = stream.writer;
        writer.write_all(b"status").await.unwrap();
        let closed = tokio::spawn(session.close());
        assert!(matches!(peer.next().await, Some(Frame::Data { .. })));
        assert_eq!(
            peer.next().await,
            Some(Frame::GoAway {
                last_good_stream_id: 1,
                status: goaway::OK
            })
        );
        assert_eq!(peer.next().await, None);
        drop(peer.io);
        closed.await.unwrap();
        assert!(writer.write_all(b"late").await.is_err());
    }
}
