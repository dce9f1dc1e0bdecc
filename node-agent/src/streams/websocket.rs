//! The channel protocols kubelets speak over a WebSocket, beside SPDY: every message carries
//! its channel's number in its first byte (`channel.k8s.io`, `v4.channel.k8s.io`,
//! `v5.channel.k8s.io`), or as an ASCII digit before base64 data in a text message (the
//! `base64.` forms). kubectl 1.30 and later, and the official Python client, stream `exec` and
//! `attach` this way; the Python client forwards ports this way too.
//!
//! [`Channels`] turns the connection into one byte stream per channel, so the remotecommand
//! and port-forward code above reads and writes channels as it reads and writes SPDY streams.
//! Two tasks own the connection's halves: the reader routes each message's payload to its
//! channel (and, in v5, ends a channel the client closes), the writer sends what each channel
//! is given, in order, and closes the connection when every channel is done.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream, ReadHalf};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};
use tracing::debug;

/// Bytes buffered per channel in each direction before the other side waits.
const CHANNEL_BUFFER: usize = 64 * 1024;
/// The largest payload one message carries.
const MAX_MESSAGE: usize = 32 * 1024;
/// Messages queued for the writer before the channels wait.
const QUEUE: usize = 16;
/// How long a closing connection waits for its last messages to go out.
const LINGER: Duration = Duration::from_secs(5);
/// The v5 signal that the client is done sending on a channel: `[CLOSE, channel]`.
const CLOSE: u8 = 255;

/// How a protocol puts a channel's bytes into messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Binary messages: the channel's number, then the bytes.
    Binary,
    /// Text messages: the channel's number as a digit, then the bytes in base64.
    Base64,
}

/// How the connection's messages map to channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framing {
    pub encoding: Encoding,
    /// Whether the client may end a channel with the v5 close signal.
    pub closable: bool,
}

/// The connection's channels as byte streams: what the client sends on channel N is read from
/// [`Channels::take`]`(N)`, and what is written there goes out on N. Dropping it tears the
/// connection down; [`Channels::close`] ends it once everything written has gone out.
pub struct Channels {
    ends: Vec<Option<DuplexStream>>,
    /// Per channel, the task forwarding what its stream is given to the writer.
    pumps: Vec<Option<tokio::task::JoinHandle<()>>>,
    queue: mpsc::Sender<(u8, Bytes)>,
    writer: tokio::task::JoinHandle<()>,
    tasks: JoinSet<()>,
}

impl Channels {
    /// Speaks WebSocket (as the server) on `io`, a connection just upgraded, with `count`
    /// channels. Must run inside a Tokio runtime.
    pub async fn open<T>(io: T, framing: Framing, count: u8) -> Channels
    where
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let socket = WebSocketStream::from_raw_socket(io, Role::Server, None).await;
        let (sink, mut incoming) = socket.split();
        let (queue, queued) = mpsc::channel(QUEUE);
        let mut tasks = JoinSet::new();
        let mut ends = Vec::new();
        let mut pumps = Vec::new();
        let mut inlets = Vec::new();
        for channel in 0..count {
            let (end, far) = tokio::io::duplex(CHANNEL_BUFFER);
            let (outlet, inlet) = tokio::io::split(far);
            pumps.push(Some(tokio::spawn(pump(channel, outlet, queue.clone()))));
            ends.push(Some(end));
            inlets.push(Some(inlet));
        }
        tasks.spawn(async move {
            while let Some(Ok(message)) = incoming.next().await {
                let Some((channel, payload)) = decode(framing.encoding, message) else {
                    continue;
                };
                if framing.closable && channel == CLOSE {
                    if let Some(&closed) = payload.first()
                        && let Some(inlet) = inlets.get_mut(usize::from(closed))
                        && let Some(mut inlet) = inlet.take()
                    {
                        let _ = inlet.shutdown().await;
                    }
                    continue;
                }
                match inlets.get_mut(usize::from(channel)) {
                    Some(Some(inlet)) => {
                        // A channel nobody reads any more drops what comes for it.
                        let _ = inlet.write_all(&payload).await;
                    }
                    _ => debug!(channel, "dropping a message for a channel not open"),
                }
            }
            for mut inlet in inlets.into_iter().flatten() {
                let _ = inlet.shutdown().await;
            }
        });
        let writer = tokio::spawn(write(sink, queued, framing.encoding));
        Channels {
            ends,
            pumps,
            queue,
            writer,
            tasks,
        }
    }

    /// Channel `channel`'s stream, once; `None` if there is no such channel or it was taken.
    pub fn take(&mut self, channel: u8) -> Option<DuplexStream> {
        self.ends.get_mut(usize::from(channel))?.take()
    }

    /// Sends one message on `channel` ahead of anything its stream is given later: the empty
    /// message that tells an exec client the session is up, the port a port-forward channel
    /// serves.
    pub async fn announce(&self, channel: u8, payload: &[u8]) {
        let _ = self
            .queue
            .send((channel, Bytes::copy_from_slice(payload)))
            .await;
    }

    /// Waits until everything the streams of `channels` were given is queued to go out, so
    /// that what is written on another channel afterwards goes out after it (an exec's exit
    /// status after its last output, which a client would otherwise drop as coming for a
    /// stream it has closed). Those streams must be dropped or shut down by now; a stream never
    /// taken is closed here.
    pub async fn drained(&mut self, channels: &[u8]) {
        for &channel in channels {
            let at = usize::from(channel);
            if let Some(end) = self.ends.get_mut(at) {
                *end = None;
            }
            if let Some(pump) = self.pumps.get_mut(at).and_then(Option::take)
                && tokio::time::timeout(LINGER, pump).await.is_err()
            {
                debug!(channel, "a channel's last output did not drain");
            }
        }
    }

    /// Ends the connection: every channel's stream must be dropped or shut down by now; what
    /// they were given goes out, then a close message, within a few seconds.
    pub async fn close(self) {
        let Channels {
            ends,
            pumps,
            queue,
            writer,
            mut tasks,
        } = self;
        drop((ends, queue));
        if tokio::time::timeout(LINGER, writer).await.is_err() {
            debug!("a WebSocket client did not take its last messages");
        }
        for pump in pumps.into_iter().flatten() {
            pump.abort();
        }
        tasks.abort_all();
    }
}

/// Forwards what a channel's stream is given to the writer, a message per read.
async fn pump(channel: u8, mut outlet: ReadHalf<DuplexStream>, queue: mpsc::Sender<(u8, Bytes)>) {
    let mut buf = vec![0; MAX_MESSAGE];
    while let Ok(n @ 1..) = outlet.read(&mut buf).await {
        if queue
            .send((channel, Bytes::copy_from_slice(&buf[..n])))
            .await
            .is_err()
        {
            break;
        }
    }
}

/// Sends the channels' messages in the order given until every channel is done, then a normal
/// close.
async fn write<S>(mut sink: S, mut queued: mpsc::Receiver<(u8, Bytes)>, encoding: Encoding)
where
    S: futures::Sink<Message> + Unpin,
    S::Error: std::fmt::Display,
{
    while let Some((channel, payload)) = queued.recv().await {
        if let Err(error) = sink.send(encode(encoding, channel, &payload)).await {
            debug!(%error, "a WebSocket client went away");
            return;
        }
    }
    let close = Message::Close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    }));
    let _ = sink.send(close).await;
    let _ = sink.close().await;
}

/// A message for `channel` carrying `payload`.
fn encode(encoding: Encoding, channel: u8, payload: &[u8]) -> Message {
    match encoding {
        Encoding::Binary => {
            let mut data = Vec::with_capacity(payload.len() + 1);
            data.push(channel);
            data.extend_from_slice(payload);
            Message::Binary(data.into())
        }
        Encoding::Base64 => {
            let digit = char::from(b'0' + channel);
            Message::Text(format!("{digit}{}", BASE64.encode(payload)).into())
        }
    }
}

/// A message's channel and payload; `None` for control messages and malformed ones. Text and
/// binary messages are read alike, as a kubelet reads them: the Python client sends text it was
/// given as text messages, whatever the protocol.
fn decode(encoding: Encoding, message: Message) -> Option<(u8, Bytes)> {
    let data: Bytes = match message {
        Message::Binary(data) => data,
        Message::Text(text) => Bytes::from(text),
        _ => return None,
    };
    let (&first, _) = data.split_first()?;
    match encoding {
        Encoding::Binary => Some((first, data.slice(1..))),
        Encoding::Base64 => {
            let channel = first.checked_sub(b'0')?;
            match BASE64.decode(&data[1..]) {
                Ok(payload) => Some((channel, payload.into())),
                Err(error) => {
                    debug!(%error, "dropping a base64 message that does not decode");
                    None
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

    /// A client speaking WebSocket to [`Channels`] over an in-memory connection.
    async fn pair(framing: Framing, count: u8) -> (Channels, WebSocketStream<DuplexStream>) {
        let (server, client) = tokio::io::duplex(1 << 20);
        let client = WebSocketStream::from_raw_socket(
            client,
            Role::Client,
            Some(WebSocketConfig::default()),
        );
        let (channels, client) = tokio::join!(Channels::open(server, framing, count), client);
        (channels, client)
    }

    const BINARY: Framing = Framing {
        encoding: Encoding::Binary,
        closable: true,
    };

    #[tokio::test]
    async fn channels_carry_bytes_both_ways_and_close_when_done() {
        let (mut channels, mut client) = pair(BINARY, 3).await;
        channels.announce(1, b"").await;
        let mut stdin = channels.take(0).unwrap();
        let mut stdout = channels.take(1).unwrap();
        assert!(channels.take(1).is_none(), "a channel is taken once");
        assert!(channels.take(7).is_none());

        client
            .send(Message::Binary(vec![0, b'h'].into()))
            .await
            .unwrap();
        // A text message carries bytes too.
        client.send(Message::Text("\u{0}i".into())).await.unwrap();
        client
            .send(Message::Binary(vec![CLOSE, 0].into()))
            .await
            .unwrap();
        let mut read = Vec::new();
        stdin.read_to_end(&mut read).await.unwrap();
        assert_eq!(read, b"hi", "v5's close signal ends the channel");

        stdout.write_all(b"out").await.unwrap();
        drop((stdin, stdout));
        let closing = tokio::spawn(channels.close());
        let mut got = Vec::new();
        while let Some(Ok(message)) = client.next().await {
            got.push(message);
        }
        closing.await.unwrap();
        assert_eq!(got[0], Message::Binary(vec![1].into()));
        assert_eq!(got[1], Message::Binary(vec![1, b'o', b'u', b't'].into()));
        assert!(got[2].is_close(), "{got:?}");
    }

    // Two threads, so the channels' pumps race as they do in the agent.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_drained_channel_goes_out_before_what_is_written_next() {
        let (mut channels, mut client) = pair(BINARY, 4).await;
        let reading = tokio::spawn(async move {
            let mut order = Vec::new();
            let mut received = 0;
            while let Some(Ok(Message::Binary(data))) = client.next().await {
                order.push(data[0]);
                if data[0] == 1 {
                    received += data.len() - 1;
                }
            }
            (order, received)
        });
        let mut stdout = channels.take(1).unwrap();
        let mut error = channels.take(3).unwrap();
        // Enough that output is still on its way when the status is written.
        let output = vec![b'x'; 64 * MAX_MESSAGE];
        stdout.write_all(&output).await.unwrap();
        drop(stdout);
        channels.drained(&[1, 2]).await;
        error.write_all(b"status").await.unwrap();
        drop(error);
        channels.close().await;
        let (order, received) = reading.await.unwrap();
        assert_eq!(received, output.len());
        assert_eq!(
            order.last(),
            Some(&3),
            "the status came before the output's end"
        );
        assert_eq!(order.iter().filter(|&&c| c == 3).count(), 1);
    }

    #[tokio::test]
    async fn base64_channels_are_text_messages_with_a_digit() {
        let framing = Framing {
            encoding: Encoding::Base64,
            closable: false,
        };
        let (mut channels, mut client) = pair(framing, 2).await;
        let mut data = channels.take(0).unwrap();
        client.send(Message::Text("0aGk=".into())).await.unwrap();
        // Without v5 a close signal is an ordinary message for an unknown channel.
        client.send(Message::Text("9AA==".into())).await.unwrap();
        let mut buf = [0; 2];
        data.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hi");
        data.write_all(b"hi").await.unwrap();
        assert_eq!(
            client.next().await.unwrap().unwrap(),
            Message::Text("0aGk=".into())
        );
        client.close(None).await.unwrap();
        let mut rest = Vec::new();
        data.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty(), "the client's close ends every channel");
    }
}
