//! The `runtime.Unknown` envelope that wraps every Kubernetes protobuf body: it names the
//! object's apiVersion and kind and carries the object's own encoding.

use super::ProtobufError;
use super::wire;

const UNKNOWN: &str = "runtime.Unknown";
const TYPE_META: &str = "runtime.TypeMeta";

/// The parts of a `runtime.Unknown` the decoder needs, borrowed from the body.
#[derive(Debug, Default)]
pub(super) struct Unknown<'a> {
    pub(super) api_version: &'a str,
    pub(super) kind: &'a str,
    /// The encoded object.
    pub(super) raw: &'a [u8],
    /// Empty unless the object is compressed.
    pub(super) content_encoding: &'a str,
}

impl<'a> Unknown<'a> {
    /// Parses an encoded `runtime.Unknown` (typeMeta = 1, raw = 2, contentEncoding = 3;
    /// contentType = 4 only repeats what the request's Content-Type says).
    pub(super) fn parse(bytes: &'a [u8]) -> Result<Self, ProtobufError> {
        let mut unknown = Self::default();
        for item in wire::fields(bytes) {
            match item? {
                (1, value) => unknown.parse_type_meta(value.bytes(UNKNOWN, "typeMeta")?)?,
                (2, value) => unknown.raw = value.bytes(UNKNOWN, "raw")?,
                (3, value) => {
                    unknown.content_encoding = value.string(UNKNOWN, "contentEncoding")?;
                }
                _ => {}
            }
        }
        Ok(unknown)
    }

    /// Reads `runtime.TypeMeta` (apiVersion = 1, kind = 2).
    fn parse_type_meta(&mut self, bytes: &'a [u8]) -> Result<(), ProtobufError> {
        for item in wire::fields(bytes) {
            match item? {
                (1, value) => self.api_version = value.string(TYPE_META, "apiVersion")?,
                (2, value) => self.kind = value.string(TYPE_META, "kind")?,
                _ => {}
            }
        }
        Ok(())
    }
}
