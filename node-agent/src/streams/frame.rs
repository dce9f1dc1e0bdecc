//! SPDY/3.1 frames on the wire: the eight control frames and data frames, encoded and decoded
//! without their header blocks' compression (that is [`super::headers`], whose state spans the
//! whole connection). Decoding is incremental so a reader can hand it whatever bytes arrived.

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// The only protocol version spoken: kubectl's spdystream speaks SPDY/3(.1) alone.
pub const VERSION: u16 = 3;
/// Control frame flag: the sender's half of the stream ends with this frame.
pub const FLAG_FIN: u8 = 0x01;
/// SYN_STREAM flag: the receiver may not send on this stream.
pub const FLAG_UNIDIRECTIONAL: u8 = 0x02;
/// The largest payload a frame's 24-bit length can describe.
pub const MAX_PAYLOAD: usize = (1 << 24) - 1;
const HEADER_LEN: usize = 8;

const SYN_STREAM: u16 = 1;
const SYN_REPLY: u16 = 2;
const RST_STREAM: u16 = 3;
const SETTINGS: u16 = 4;
const PING: u16 = 6;
const GOAWAY: u16 = 7;
const HEADERS: u16 = 8;
const WINDOW_UPDATE: u16 = 9;

/// RST_STREAM status codes used here (SPDY/3 section 2.6.3).
pub mod status {
    /// The stream broke the protocol (a bad stream id, say).
    pub const PROTOCOL_ERROR: u32 = 1;
    /// The stream was not accepted: unknown, duplicate or arriving during shutdown.
    pub const REFUSED_STREAM: u32 = 3;
    /// The stream is no longer needed.
    pub const CANCEL: u32 = 5;
}

/// GOAWAY status codes (SPDY/3 section 2.6.6).
pub mod goaway {
    /// A normal end of the session.
    pub const OK: u32 = 0;
    /// The session ends because the peer broke the protocol.
    pub const PROTOCOL_ERROR: u32 = 1;
}

/// One frame. Header blocks are carried compressed, as on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    SynStream {
        stream_id: u32,
        associated_to: u32,
        priority: u8,
        flags: u8,
        header_block: Bytes,
    },
    SynReply {
        stream_id: u32,
        fin: bool,
        header_block: Bytes,
    },
    RstStream {
        stream_id: u32,
        status: u32,
    },
    /// Flag-id-value entries; spdystream never sends them and nothing here needs them, but they
    /// must be recognised to be skipped.
    Settings {
        entries: Vec<Setting>,
    },
    Ping {
        id: u32,
    },
    GoAway {
        last_good_stream_id: u32,
        status: u32,
    },
    Headers {
        stream_id: u32,
        fin: bool,
        header_block: Bytes,
    },
    WindowUpdate {
        stream_id: u32,
        delta: u32,
    },
    Data {
        stream_id: u32,
        fin: bool,
        data: Bytes,
    },
    /// A control frame of a type SPDY/3 does not define; the spec says to ignore it.
    Unknown {
        kind: u16,
    },
}

/// One SETTINGS entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    pub flags: u8,
    pub id: u32,
    pub value: u32,
}

/// Why bytes are not a frame; any of these ends the session, since framing is lost.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    #[error("SPDY version {0} is not supported (only 3)")]
    Version(u16),
    #[error("{kind} frame of {len} bytes is malformed")]
    Length { kind: &'static str, len: usize },
    #[error("{0} frame names stream 0")]
    ZeroStream(&'static str),
    #[error("a payload of {0} bytes does not fit in one frame")]
    TooLarge(usize),
}

impl Frame {
    /// Decodes the first frame in `buf`, consuming it, or returns `None` (consuming nothing)
    /// while the frame is incomplete.
    pub fn decode(buf: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        if buf.len() < HEADER_LEN {
            return Ok(None);
        }
        let len = u32::from_be_bytes([0, buf[5], buf[6], buf[7]]) as usize;
        if buf.len() < HEADER_LEN + len {
            return Ok(None);
        }
        let first = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
        let flags = buf[4];
        buf.advance(HEADER_LEN);
        let payload = buf.split_to(len).freeze();
        if first & 0x8000_0000 == 0 {
            return decode_data(first, flags, payload).map(Some);
        }
        let version = ((first >> 16) & 0x7fff) as u16;
        if version != VERSION {
            return Err(FrameError::Version(version));
        }
        decode_control((first & 0xffff) as u16, flags, payload).map(Some)
    }

    /// Appends the frame's wire form to `dst`.
    pub fn encode(&self, dst: &mut BytesMut) -> Result<(), FrameError> {
        match self {
            Frame::Data {
                stream_id,
                fin,
                data,
            } => {
                let len = payload_len(data.len())?;
                dst.put_u32(stream_id & 0x7fff_ffff);
                dst.put_u32(u32::from(flag(*fin)) << 24 | len);
                dst.put_slice(data);
            }
            Frame::SynStream {
                stream_id,
                associated_to,
                priority,
                flags,
                header_block,
            } => {
                control_header(dst, SYN_STREAM, *flags, 10 + header_block.len())?;
                dst.put_u32(*stream_id);
                dst.put_u32(*associated_to);
                dst.put_u8(priority << 5);
                dst.put_u8(0);
                dst.put_slice(header_block);
            }
            Frame::SynReply {
                stream_id,
                fin,
                header_block,
            } => stream_headers(dst, SYN_REPLY, *stream_id, *fin, header_block)?,
            Frame::Headers {
                stream_id,
                fin,
                header_block,
            } => stream_headers(dst, HEADERS, *stream_id, *fin, header_block)?,
            Frame::RstStream { stream_id, status } => {
                control_header(dst, RST_STREAM, 0, 8)?;
                dst.put_u32(*stream_id);
                dst.put_u32(*status);
            }
            Frame::Settings { entries } => {
                control_header(dst, SETTINGS, 0, 4 + 8 * entries.len())?;
                dst.put_u32(entries.len() as u32);
                for e in entries {
                    dst.put_u32(u32::from(e.flags) << 24 | (e.id & 0xff_ffff));
                    dst.put_u32(e.value);
                }
            }
            Frame::Ping { id } => {
                control_header(dst, PING, 0, 4)?;
                dst.put_u32(*id);
            }
            Frame::GoAway {
                last_good_stream_id,
                status,
            } => {
                control_header(dst, GOAWAY, 0, 8)?;
                dst.put_u32(*last_good_stream_id);
                dst.put_u32(*status);
            }
            Frame::WindowUpdate { stream_id, delta } => {
                control_header(dst, WINDOW_UPDATE, 0, 8)?;
                dst.put_u32(*stream_id);
                dst.put_u32(*delta);
            }
            Frame::Unknown { kind } => control_header(dst, *kind, 0, 0)?,
        }
        Ok(())
    }
}

fn flag(fin: bool) -> u8 {
    if fin { FLAG_FIN } else { 0 }
}

fn payload_len(len: usize) -> Result<u32, FrameError> {
    if len > MAX_PAYLOAD {
        return Err(FrameError::TooLarge(len));
    }
    Ok(len as u32)
}

fn control_header(dst: &mut BytesMut, kind: u16, flags: u8, len: usize) -> Result<(), FrameError> {
    let len = payload_len(len)?;
    dst.put_u16(0x8000 | VERSION);
    dst.put_u16(kind);
    dst.put_u32(u32::from(flags) << 24 | len);
    Ok(())
}

fn stream_headers(
    dst: &mut BytesMut,
    kind: u16,
    stream_id: u32,
    fin: bool,
    block: &Bytes,
) -> Result<(), FrameError> {
    control_header(dst, kind, flag(fin), 4 + block.len())?;
    dst.put_u32(stream_id);
    dst.put_slice(block);
    Ok(())
}

fn decode_data(first: u32, flags: u8, data: Bytes) -> Result<Frame, FrameError> {
    let stream_id = first & 0x7fff_ffff;
    if stream_id == 0 {
        return Err(FrameError::ZeroStream("DATA"));
    }
    Ok(Frame::Data {
        stream_id,
        fin: flags & FLAG_FIN != 0,
        data,
    })
}

/// The stream id that opens a payload, which must be at least `min` bytes long.
fn stream_id(kind: &'static str, payload: &mut Bytes, min: usize) -> Result<u32, FrameError> {
    if payload.len() < min {
        return Err(FrameError::Length {
            kind,
            len: payload.len(),
        });
    }
    let id = payload.get_u32() & 0x7fff_ffff;
    if id == 0 {
        return Err(FrameError::ZeroStream(kind));
    }
    Ok(id)
}

fn exact(kind: &'static str, payload: &Bytes, len: usize) -> Result<(), FrameError> {
    if payload.len() != len {
        return Err(FrameError::Length {
            kind,
            len: payload.len(),
        });
    }
    Ok(())
}

fn decode_control(kind: u16, flags: u8, mut p: Bytes) -> Result<Frame, FrameError> {
    let fin = flags & FLAG_FIN != 0;
    Ok(match kind {
        SYN_STREAM => {
            let stream_id = stream_id("SYN_STREAM", &mut p, 10)?;
            let associated_to = p.get_u32() & 0x7fff_ffff;
            let priority = p.get_u8() >> 5;
            p.advance(1); // the credential slot, unused
            Frame::SynStream {
                stream_id,
                associated_to,
                priority,
                flags,
                header_block: p,
            }
        }
        SYN_REPLY => Frame::SynReply {
            stream_id: stream_id("SYN_REPLY", &mut p, 4)?,
            fin,
            header_block: p,
        },
        HEADERS => Frame::Headers {
            stream_id: stream_id("HEADERS", &mut p, 4)?,
            fin,
            header_block: p,
        },
        RST_STREAM => {
            exact("RST_STREAM", &p, 8)?;
            Frame::RstStream {
                stream_id: stream_id("RST_STREAM", &mut p, 8)?,
                status: p.get_u32(),
            }
        }
        SETTINGS => decode_settings(p)?,
        PING => {
            exact("PING", &p, 4)?;
            Frame::Ping { id: p.get_u32() }
        }
        GOAWAY => {
            exact("GOAWAY", &p, 8)?;
            Frame::GoAway {
                last_good_stream_id: p.get_u32() & 0x7fff_ffff,
                status: p.get_u32(),
            }
        }
        WINDOW_UPDATE => {
            exact("WINDOW_UPDATE", &p, 8)?;
            Frame::WindowUpdate {
                stream_id: p.get_u32() & 0x7fff_ffff,
                delta: p.get_u32() & 0x7fff_ffff,
            }
        }
        kind => Frame::Unknown { kind },
    })
}

fn decode_settings(mut p: Bytes) -> Result<Frame, FrameError> {
    let malformed = |p: &Bytes| FrameError::Length {
        kind: "SETTINGS",
        len: p.len(),
    };
    if p.len() < 4 {
        return Err(malformed(&p));
    }
    let count = p.get_u32() as usize;
    if count.checked_mul(8) != Some(p.len()) {
        return Err(malformed(&p));
    }
    let entries = (0..count)
        .map(|_| {
            let flag_id = p.get_u32();
            Setting {
                flags: (flag_id >> 24) as u8,
                id: flag_id & 0xff_ffff,
                value: p.get_u32(),
            }
        })
        .collect();
    Ok(Frame::Settings { entries })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::streams::KUBECTL_SYN_STREAM;

    fn round_trip(frame: Frame) {
        let mut buf = BytesMut::new();
        frame.encode(&mut buf).unwrap();
        buf.put_slice(b"next");
        assert_eq!(Frame::decode(&mut buf).unwrap(), Some(frame));
        assert_eq!(&buf[..], b"next");
    }

    #[test]
    fn every_frame_round_trips() {
        let block = Bytes::from_static(b"\x78\x9c compressed");
        round_trip(Frame::SynStream {
            stream_id: 7,
            associated_to: 3,
            priority: 5,
            flags: FLAG_FIN | FLAG_UNIDIRECTIONAL,
            header_block: block.clone(),
        });
        round_trip(Frame::SynReply {
            stream_id: 7,
            fin: true,
            header_block: block.clone(),
        });
        round_trip(Frame::Headers {
            stream_id: 9,
            fin: false,
            header_block: block,
        });
        round_trip(Frame::RstStream {
            stream_id: 7,
            status: status::CANCEL,
        });
        round_trip(Frame::Settings {
            entries: vec![Setting {
                flags: 1,
                id: 7,
                value: 65536,
            }],
        });
        round_trip(Frame::Ping { id: 1 });
        round_trip(Frame::GoAway {
            last_good_stream_id: 11,
            status: goaway::OK,
        });
        round_trip(Frame::WindowUpdate {
            stream_id: 0,
            delta: 1 << 20,
        });
        round_trip(Frame::Data {
            stream_id: 3,
            fin: true,
            data: Bytes::from_static(b"hello"),
        });
        round_trip(Frame::Data {
            stream_id: 5,
            fin: false,
            data: Bytes::new(),
        });
    }

    #[test]
    fn data_frame_layout_is_the_specs() {
        let mut buf = BytesMut::new();
        Frame::Data {
            stream_id: 3,
            fin: true,
            data: Bytes::from_static(b"ab"),
        }
        .encode(&mut buf)
        .unwrap();
        assert_eq!(&buf[..], &[0, 0, 0, 3, 1, 0, 0, 2, b'a', b'b']);
    }

    #[test]
    fn decodes_kubectls_syn_stream() {
        let mut buf = BytesMut::from(KUBECTL_SYN_STREAM);
        let Some(Frame::SynStream {
            stream_id,
            associated_to,
            priority,
            flags,
            header_block,
        }) = Frame::decode(&mut buf).unwrap()
        else {
            panic!("not a SYN_STREAM");
        };
        assert_eq!((stream_id, associated_to, priority, flags), (1, 0, 0, 0));
        assert_eq!(header_block.len(), 31);
        assert!(buf.is_empty());
    }

    #[test]
    fn incomplete_input_waits_for_more() {
        for cut in [0, 5, 8, KUBECTL_SYN_STREAM.len() - 1] {
            let mut buf = BytesMut::from(&KUBECTL_SYN_STREAM[..cut]);
            assert_eq!(Frame::decode(&mut buf), Ok(None));
            assert_eq!(buf.len(), cut, "nothing is consumed");
        }
    }

    #[test]
    fn malformed_frames_are_errors() {
        let decode = |bytes: &[u8]| Frame::decode(&mut BytesMut::from(bytes));
        assert_eq!(
            decode(&[0x80, 0x02, 0, 1, 0, 0, 0, 0]),
            Err(FrameError::Version(2))
        );
        assert_eq!(
            decode(&[0x80, 0x03, 0, 3, 0, 0, 0, 4, 0, 0, 0, 1]),
            Err(FrameError::Length {
                kind: "RST_STREAM",
                len: 4
            })
        );
        assert_eq!(
            decode(&[0x80, 0x03, 0, 1, 0, 0, 0, 2, 0, 0]),
            Err(FrameError::Length {
                kind: "SYN_STREAM",
                len: 2
            })
        );
        assert_eq!(
            decode(&[0, 0, 0, 0, 0, 0, 0, 0]),
            Err(FrameError::ZeroStream("DATA"))
        );
        assert_eq!(
            decode(&[
                0x80, 0x03, 0, 4, 0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0
            ]),
            Err(FrameError::Length {
                kind: "SETTINGS",
                len: 4
            })
        );
        assert_eq!(
            decode(&[0x80, 0x03, 0, 0x0a, 0, 0, 0, 0]),
            Ok(Some(Frame::Unknown { kind: 10 }))
        );
    }
}
