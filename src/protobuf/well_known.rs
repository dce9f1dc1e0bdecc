//! The apimachinery types whose JSON form is not an object: times, quantities,
//! int-or-strings, embedded JSON and string lists. Each is a small message on the wire,
//! decoded through the generic decoder with a hand-written schema and then reshaped.

use serde_json::{Map, Value};

use super::ProtobufError;
use super::message::decode_message;
use super::model::{Field, Kind, Message, Shape};
use super::wire;

static TIMESTAMP: Message = Message::new(
    "meta/v1.Timestamp",
    &[
        Field::new(1, "seconds", Kind::Int64, Shape::Single),
        Field::new(2, "nanos", Kind::Int32, Shape::Single),
    ],
);

static QUANTITY: Message = Message::new(
    "resource.Quantity",
    &[Field::new(1, "string", Kind::String, Shape::Single)],
);

static INT_OR_STRING: Message = Message::new(
    "intstr.IntOrString",
    &[
        Field::new(1, "type", Kind::Int64, Shape::Single),
        Field::new(2, "intVal", Kind::Int32, Shape::Single),
        Field::new(3, "strVal", Kind::String, Shape::Single),
    ],
);

static STRING_LIST: Message = Message::new(
    "StringList",
    &[Field::new(1, "items", Kind::String, Shape::Repeated)],
);

/// `meta.v1.Time`: whole seconds, since Go's protobuf decoding of a Time drops the
/// nanoseconds (its JSON form has none).
pub(super) fn time(bytes: &[u8], depth: usize) -> Result<Value, ProtobufError> {
    match timestamp(bytes, depth)? {
        Some((seconds, _)) => rfc3339(seconds, 0, 0),
        None => Ok(Value::Null),
    }
}

/// `meta.v1.MicroTime`: always six fractional digits, truncated, as Go formats it.
pub(super) fn micro_time(bytes: &[u8], depth: usize) -> Result<Value, ProtobufError> {
    match timestamp(bytes, depth)? {
        Some((seconds, nanos)) => rfc3339(seconds, nanos - nanos % 1_000, 6),
        None => Ok(Value::Null),
    }
}

/// The seconds and nanoseconds of a Timestamp; `None` for the zero time, which Go encodes
/// as an empty message and whose JSON form is null.
fn timestamp(bytes: &[u8], depth: usize) -> Result<Option<(i64, i64)>, ProtobufError> {
    if bytes.is_empty() {
        return Ok(None);
    }
    let parts = decode_message(&TIMESTAMP, bytes, depth)?;
    Ok(Some((integer(&parts, "seconds"), integer(&parts, "nanos"))))
}

fn rfc3339(seconds: i64, nanos: i64, digits: usize) -> Result<Value, ProtobufError> {
    let out_of_range = || ProtobufError::TimestampOutOfRange { seconds, nanos };
    let nanos_i32 = i32::try_from(nanos).map_err(|_| out_of_range())?;
    let instant = jiff::Timestamp::new(seconds, nanos_i32).map_err(|_| out_of_range())?;
    Ok(Value::String(format!("{instant:.digits$}")))
}

/// `api.resource.Quantity`: its canonical string; a Quantity without one is Go's zero
/// Quantity, which prints as "0".
pub(super) fn quantity(bytes: &[u8], depth: usize) -> Result<Value, ProtobufError> {
    let mut parts = decode_message(&QUANTITY, bytes, depth)?;
    Ok(parts.remove("string").unwrap_or_else(|| Value::from("0")))
}

/// `util.intstr.IntOrString`: the string when `type` is 1, else the number.
pub(super) fn int_or_string(bytes: &[u8], depth: usize) -> Result<Value, ProtobufError> {
    let mut parts = decode_message(&INT_OR_STRING, bytes, depth)?;
    Ok(if integer(&parts, "type") == 1 {
        parts.remove("strVal").unwrap_or_else(|| Value::from(""))
    } else {
        parts.remove("intVal").unwrap_or_else(|| Value::from(0))
    })
}

/// `runtime.RawExtension` and `meta.v1.FieldsV1`: field 1 holds JSON text, embedded as is;
/// no bytes mean null. `message` and `field` name the enclosing field in errors.
pub(super) fn embedded_json(
    bytes: &[u8],
    message: &'static str,
    field: &'static str,
) -> Result<Value, ProtobufError> {
    let mut raw: &[u8] = &[];
    for item in wire::fields(bytes) {
        if let (1, value) = item? {
            raw = value.bytes(message, field)?;
        }
    }
    if raw.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(raw).map_err(|source| ProtobufError::EmbeddedJson {
        message,
        field,
        source,
    })
}

/// A message wrapping `repeated string items = 1`, whose Go type is a plain string slice.
pub(super) fn string_list(bytes: &[u8], depth: usize) -> Result<Value, ProtobufError> {
    let mut parts = decode_message(&STRING_LIST, bytes, depth)?;
    Ok(parts
        .remove("items")
        .unwrap_or_else(|| Value::Array(Vec::new())))
}

/// An integer member of a decoded helper message; absent means zero, as in protobuf.
fn integer(parts: &Map<String, Value>, name: &str) -> i64 {
    parts.get(name).and_then(Value::as_i64).unwrap_or(0)
}
