//! SPDY/3 header blocks: a count and length-prefixed names and values, compressed with zlib
//! primed with the protocol's dictionary. Each direction of a connection is one zlib stream for
//! the connection's lifetime (every block ends at a sync flush), so a session owns exactly one
//! [`HeaderEncoder`] and one [`HeaderDecoder`] and must pass every block through them in order,
//! even blocks it ignores.

use bytes::{Buf, BufMut, Bytes};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// The largest decompressed block accepted: a guard against a block that inflates without end;
/// kubectl's blocks are a few dozen bytes.
const MAX_BLOCK: usize = 256 * 1024;

/// A stream's headers, names lowercased as SPDY requires, in the order they arrived.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of `name` (any case); several values of one name come NUL-separated, as on
    /// the wire.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Adds a header, lowercasing its name.
    pub fn insert(&mut self, name: &str, value: impl Into<String>) {
        self.0.push((name.to_ascii_lowercase(), value.into()));
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

/// Why a header block could not be made or read. Reading errors end the session: the zlib
/// stream's state is lost.
#[derive(Debug, thiserror::Error)]
pub enum HeaderError {
    #[error("header compression: {0}")]
    Compress(#[from] flate2::CompressError),
    #[error("header decompression: {0}")]
    Decompress(#[from] flate2::DecompressError),
    #[error("header block inflates past {MAX_BLOCK} bytes")]
    TooLarge,
    #[error("header block is truncated")]
    Truncated,
    #[error("header block is malformed: {0}")]
    Malformed(&'static str),
}

/// Compresses the blocks one side sends.
pub struct HeaderEncoder {
    zlib: Compress,
}

impl HeaderEncoder {
    pub fn new() -> Result<Self, HeaderError> {
        let mut zlib = Compress::new(Compression::best(), true);
        zlib.set_dictionary(DICTIONARY)?;
        Ok(Self { zlib })
    }

    /// The compressed block for `headers`, ending at a sync flush so the peer can inflate it
    /// whole.
    pub fn encode(&mut self, headers: &Headers) -> Result<Bytes, HeaderError> {
        let plain = serialize(headers)?;
        let mut out = Vec::with_capacity(plain.len() / 2 + 64);
        let mut consumed = 0;
        loop {
            out.reserve(64 + plain.len() - consumed);
            let before = self.zlib.total_in();
            self.zlib
                .compress_vec(&plain[consumed..], &mut out, FlushCompress::Sync)?;
            consumed += (self.zlib.total_in() - before) as usize;
            // The flush is complete once all input is in and zlib left room unused.
            if consumed == plain.len() && out.len() < out.capacity() {
                return Ok(out.into());
            }
        }
    }
}

/// Inflates the blocks the peer sends.
pub struct HeaderDecoder {
    zlib: Decompress,
}

impl Default for HeaderDecoder {
    fn default() -> Self {
        Self {
            zlib: Decompress::new(true),
        }
    }
}

impl HeaderDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// The headers in one compressed block; the whole block is consumed.
    pub fn decode(&mut self, block: &[u8]) -> Result<Headers, HeaderError> {
        parse(&self.inflate(block)?)
    }

    fn inflate(&mut self, block: &[u8]) -> Result<Vec<u8>, HeaderError> {
        let mut out = Vec::with_capacity(block.len() * 4 + 64);
        let mut consumed = 0;
        loop {
            if out.len() == out.capacity() {
                if out.len() >= MAX_BLOCK {
                    return Err(HeaderError::TooLarge);
                }
                out.reserve(out.len());
            }
            let (before_in, before_out) = (self.zlib.total_in(), self.zlib.total_out());
            let result =
                self.zlib
                    .decompress_vec(&block[consumed..], &mut out, FlushDecompress::Sync);
            consumed += (self.zlib.total_in() - before_in) as usize;
            let progressed =
                self.zlib.total_in() != before_in || self.zlib.total_out() != before_out;
            match result {
                Err(e) if e.needs_dictionary().is_some() => {
                    self.zlib.set_dictionary(DICTIONARY)?;
                    continue;
                }
                Err(e) => return Err(e.into()),
                Ok(Status::StreamEnd) => return Ok(out),
                Ok(_) => {}
            }
            if consumed == block.len() && out.len() < out.capacity() {
                return Ok(out);
            }
            if !progressed && out.len() < out.capacity() {
                return Err(HeaderError::Truncated);
            }
        }
    }
}

fn serialize(headers: &Headers) -> Result<Vec<u8>, HeaderError> {
    let too_long = || HeaderError::Malformed("a name or value longer than 4 GiB");
    let mut plain = Vec::new();
    plain.put_u32(u32::try_from(headers.0.len()).map_err(|_| too_long())?);
    for (name, value) in &headers.0 {
        for s in [name, value] {
            plain.put_u32(u32::try_from(s.len()).map_err(|_| too_long())?);
            plain.put_slice(s.as_bytes());
        }
    }
    Ok(plain)
}

fn parse(mut plain: &[u8]) -> Result<Headers, HeaderError> {
    fn field(plain: &mut &[u8]) -> Result<String, HeaderError> {
        if plain.remaining() < 4 {
            return Err(HeaderError::Malformed("a length runs past the block"));
        }
        let len = plain.get_u32() as usize;
        if plain.remaining() < len {
            return Err(HeaderError::Malformed(
                "a name or value runs past the block",
            ));
        }
        let s = String::from_utf8_lossy(&plain[..len]).into_owned();
        plain.advance(len);
        Ok(s)
    }
    if plain.remaining() < 4 {
        return Err(HeaderError::Malformed("no header count"));
    }
    let count = plain.get_u32();
    let mut headers = Headers::new();
    for _ in 0..count {
        let name = field(&mut plain)?;
        let value = field(&mut plain)?;
        headers.insert(&name, value);
    }
    Ok(headers)
}

/// The SPDY/3 header compression dictionary (draft-mbelshe-httpbis-spdy-00, section 2.6.10.1),
/// a protocol constant both ends prime zlib with.
const DICTIONARY: &[u8] = b"\
    \x00\x00\x00\x07options\x00\x00\x00\x04head\x00\x00\x00\x04post\x00\x00\x00\x03put\x00\x00\
    \x00\x06delete\x00\x00\x00\x05trace\x00\x00\x00\x06accept\x00\x00\x00\x0eaccept-charset\x00\
    \x00\x00\x0faccept-encoding\x00\x00\x00\x0faccept-language\x00\x00\x00\x0daccept-ranges\x00\
    \x00\x00\x03age\x00\x00\x00\x05allow\x00\x00\x00\x0dauthorization\x00\x00\x00\x0dcache-contr\
    ol\x00\x00\x00\x0aconnection\x00\x00\x00\x0ccontent-base\x00\x00\x00\x10content-encoding\x00\
    \x00\x00\x10content-language\x00\x00\x00\x0econtent-length\x00\x00\x00\x10content-location\
    \x00\x00\x00\x0bcontent-md5\x00\x00\x00\x0dcontent-range\x00\x00\x00\x0ccontent-type\x00\x00\
    \x00\x04date\x00\x00\x00\x04etag\x00\x00\x00\x06expect\x00\x00\x00\x07expires\x00\x00\x00\
    \x04from\x00\x00\x00\x04host\x00\x00\x00\x08if-match\x00\x00\x00\x11if-modified-since\x00\
    \x00\x00\x0dif-none-match\x00\x00\x00\x08if-range\x00\x00\x00\x13if-unmodified-since\x00\x00\
    \x00\x0dlast-modified\x00\x00\x00\x08location\x00\x00\x00\x0cmax-forwards\x00\x00\x00\x06pra\
    gma\x00\x00\x00\x12proxy-authenticate\x00\x00\x00\x13proxy-authorization\x00\x00\x00\x05rang\
    e\x00\x00\x00\x07referer\x00\x00\x00\x0bretry-after\x00\x00\x00\x06server\x00\x00\x00\x02te\
    \x00\x00\x00\x07trailer\x00\x00\x00\x11transfer-encoding\x00\x00\x00\x07upgrade\x00\x00\x00\
    \x0auser-agent\x00\x00\x00\x04vary\x00\x00\x00\x03via\x00\x00\x00\x07warning\x00\x00\x00\x10\
    www-authenticate\x00\x00\x00\x06method\x00\x00\x00\x03get\x00\x00\x00\x06status\x00\x00\x00\
    \x06200 OK\x00\x00\x00\x07version\x00\x00\x00\x08HTTP/1.1\x00\x00\x00\x03url\x00\x00\x00\x06\
    public\x00\x00\x00\x0aset-cookie\x00\x00\x00\x0akeep-alive\x00\x00\x00\x06origin100101201202\
    205206300302303304305306307402405406407408409410411412413414415416417502504505203 Non-Author\
    itative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized403 For\
    bidden404 Not Found500 Internal Server Error501 Not Implemented503 Service UnavailableJan Fe\
    b Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTch\
    unked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/pla\
    in,text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf\
    -,*,enq=0.";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::streams::KUBECTL_SYN_STREAM;
    use crate::streams::frame::Frame;

    fn headers(pairs: &[(&str, &str)]) -> Headers {
        let mut h = Headers::new();
        for (n, v) in pairs {
            h.insert(n, *v);
        }
        h
    }

    #[test]
    fn dictionary_is_the_one_kubectl_primes_with() {
        // The dictionary id in the zlib header of kubectl's first block is its Adler-32.
        let adler = Compress::new(Compression::best(), true)
            .set_dictionary(DICTIONARY)
            .unwrap();
        assert_eq!(adler, 0xe3c6_a7c2);
        assert_eq!(&KUBECTL_SYN_STREAM[20..24], &adler.to_be_bytes());
        assert_eq!(DICTIONARY.len(), 1423);
    }

    #[test]
    fn decodes_kubectls_first_block() {
        let mut buf = bytes::BytesMut::from(KUBECTL_SYN_STREAM);
        let Ok(Some(Frame::SynStream { header_block, .. })) = Frame::decode(&mut buf) else {
            panic!("not a SYN_STREAM");
        };
        let h = HeaderDecoder::new().decode(&header_block).unwrap();
        assert_eq!(h, headers(&[("streamtype", "error")]));
    }

    #[test]
    fn blocks_share_one_context_per_direction() {
        let mut enc = HeaderEncoder::new().unwrap();
        let mut dec = HeaderDecoder::new();
        let blocks = [
            headers(&[
                ("streamtype", "error"),
                ("port", "8080"),
                ("requestid", "0"),
            ]),
            headers(&[]),
            headers(&[("streamtype", "data"), ("port", "8080"), ("requestid", "0")]),
            headers(&[("x", &"v".repeat(100_000))]),
        ];
        let encoded: Vec<Bytes> = blocks.iter().map(|h| enc.encode(h).unwrap()).collect();
        // The repeated third block compresses against the first: the context carried over.
        assert!(encoded[2].len() < encoded[0].len());
        for (h, block) in blocks.iter().zip(&encoded) {
            assert_eq!(&dec.decode(block).unwrap(), h);
        }
        // A fresh decoder cannot read a block from the middle of the stream.
        assert!(HeaderDecoder::new().decode(&encoded[2]).is_err());
    }

    #[test]
    fn names_are_lowercased_and_looked_up_in_any_case() {
        let h = headers(&[("StreamType", "stdin")]);
        assert_eq!(h.iter().collect::<Vec<_>>(), [("streamtype", "stdin")]);
        assert_eq!(h.get("STREAMTYPE"), Some("stdin"));
        assert_eq!(h.get("port"), None);
    }

    #[test]
    fn malformed_blocks_are_errors() {
        assert!(HeaderDecoder::new().decode(b"not zlib at all").is_err());
        let mut enc = HeaderEncoder::new().unwrap();
        let block = enc.encode(&headers(&[("a", "b")])).unwrap();
        assert!(HeaderDecoder::new().decode(&block[..8]).is_err());
        // A count promising more headers than the block holds.
        assert!(matches!(
            parse(&[0, 0, 0, 9, 0, 0, 0, 1, b'a']),
            Err(HeaderError::Malformed(_))
        ));
        assert!(matches!(
            parse(&[0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]),
            Err(HeaderError::Malformed(_))
        ));
    }
}
