//! Decoding of Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`)
//! into the JSON the API server stores and processes.
//!
//! kubectl's typed clients send objects in protobuf: the magic `k8s\0`, then a
//! `runtime.Unknown` envelope naming apiVersion and kind around the encoded object. A small
//! wire reader walks the bytes, and a static schema table generated from the Kubernetes
//! type definitions (`tools/gen-protobuf-schema.py`) gives each field its JSON name and
//! form, so the result equals what Kubernetes' JSON encoding gives the same object.

mod envelope;
mod message;
mod model;
#[rustfmt::skip]
mod schema;
mod well_known;
mod wire;

#[cfg(test)]
mod tests;

use serde_json::Value;

pub use wire::WireType;

/// The bytes every Kubernetes protobuf body starts with.
const MAGIC: &[u8] = b"k8s\0";

/// Why a protobuf body could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum ProtobufError {
    #[error("body does not start with the Kubernetes protobuf magic `k8s\\0`")]
    MissingMagic,
    #[error("protobuf data ends in the middle of a value")]
    Truncated,
    #[error("protobuf varint is longer than 64 bits")]
    VarintOverflow,
    #[error("length-delimited field of {length} bytes runs past the {available} bytes left")]
    LengthOutOfBounds { length: u64, available: usize },
    #[error("invalid protobuf field number {0}")]
    InvalidFieldNumber(u64),
    #[error("unsupported protobuf wire type {0}")]
    UnsupportedWireType(u64),
    #[error("field `{field}` of `{message}` cannot arrive as a {found} value")]
    WireTypeMismatch {
        message: &'static str,
        field: &'static str,
        found: WireType,
    },
    #[error("field `{field}` of `{message}` is not valid UTF-8")]
    InvalidUtf8 {
        message: &'static str,
        field: &'static str,
    },
    #[error("field `{field}` of `{message}` does not hold valid JSON: {source}")]
    EmbeddedJson {
        message: &'static str,
        field: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("timestamp of {seconds} s and {nanos} ns is out of range")]
    TimestampOutOfRange { seconds: i64, nanos: i64 },
    #[error("messages nest deeper than {} levels", message::MAX_DEPTH)]
    TooDeep,
    #[error("unsupported content encoding `{0}`")]
    UnsupportedContentEncoding(String),
    #[error("no protobuf schema for kind `{kind}` of apiVersion `{api_version}`")]
    UnknownKind { api_version: String, kind: String },
}

/// Decodes a `k8s\0`-prefixed `runtime.Unknown` body into the JSON object it carries,
/// with `apiVersion` and `kind` set from the envelope.
///
/// # Errors
///
/// Fails when the body is not well-formed protobuf, names a kind the schema lacks, or holds
/// a value its field cannot take; see [`ProtobufError`].
pub fn decode(body: &[u8]) -> Result<Value, ProtobufError> {
    let envelope = body
        .strip_prefix(MAGIC)
        .ok_or(ProtobufError::MissingMagic)?;
    let unknown = envelope::Unknown::parse(envelope)?;
    if !unknown.content_encoding.is_empty() {
        return Err(ProtobufError::UnsupportedContentEncoding(
            unknown.content_encoding.to_owned(),
        ));
    }
    let root =
        root(unknown.api_version, unknown.kind).ok_or_else(|| ProtobufError::UnknownKind {
            api_version: unknown.api_version.to_owned(),
            kind: unknown.kind.to_owned(),
        })?;
    let mut object = message::decode_message(root.message, unknown.raw, message::MAX_DEPTH)?;
    object.insert("apiVersion".to_owned(), Value::from(root.api_version));
    object.insert("kind".to_owned(), Value::from(root.kind));
    Ok(Value::Object(object))
}

fn root(api_version: &str, kind: &str) -> Option<&'static model::Root> {
    schema::ROOTS
        .iter()
        .find(|root| root.api_version == api_version && root.kind == kind)
}
