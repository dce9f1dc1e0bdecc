//! Schema-driven decoding: turns an encoded message into the JSON object Kubernetes' JSON
//! encoding gives the same value, field by field from the schema table.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value};

use super::ProtobufError;
use super::model::{Field, Kind, Message, Shape};
use super::well_known;
use super::wire::{self, WireValue};

/// How deeply messages may nest. Kubernetes objects stay far below it; the limit keeps
/// hostile input from exhausting the stack through a self-referencing message type.
pub(super) const MAX_DEPTH: usize = 64;

/// Decodes `bytes` as `message`. `depth` is how many more levels of nesting are allowed.
pub(super) fn decode_message(
    message: &'static Message,
    bytes: &[u8],
    depth: usize,
) -> Result<Map<String, Value>, ProtobufError> {
    let depth = depth.checked_sub(1).ok_or(ProtobufError::TooDeep)?;
    let mut members = Members::default();
    for item in wire::fields(bytes) {
        let (tag, value) = item?;
        if let Some(field) = message.field(tag) {
            members.add(message, field, value, depth)?;
        }
    }
    Ok(members.into_object())
}

/// The JSON members of one message, gathered as its fields arrive in wire order.
#[derive(Default)]
struct Members {
    single: Map<String, Value>,
    repeated: BTreeMap<&'static str, Vec<Value>>,
    maps: BTreeMap<&'static str, Map<String, Value>>,
}

impl Members {
    fn add(
        &mut self,
        message: &'static Message,
        field: &'static Field,
        value: WireValue<'_>,
        depth: usize,
    ) -> Result<(), ProtobufError> {
        match field.shape {
            Shape::Single => self.set(field, decode_value(message, field, value, depth)?),
            Shape::OmitEmpty => {
                let value = decode_value(message, field, value, depth)?;
                if is_zero(&value) {
                    self.single.remove(field.json);
                } else {
                    self.set(field, value);
                }
            }
            Shape::Repeated => {
                let items = self.repeated.entry(field.json).or_default();
                decode_repeated(message, field, value, depth, items)?;
            }
            Shape::Map => {
                let (key, value) = decode_map_entry(message, field, value, depth)?;
                self.maps.entry(field.json).or_default().insert(key, value);
            }
            Shape::Inline => match (field.kind, value) {
                (Kind::Message(inline), WireValue::LengthDelimited(bytes)) => {
                    self.single.extend(decode_message(inline, bytes, depth)?);
                }
                _ => return Err(mismatch(message, field, value)),
            },
        }
        Ok(())
    }

    /// Sets a singular member; as in protobuf, the last occurrence on the wire wins.
    fn set(&mut self, field: &Field, value: Value) {
        self.single.insert(field.json.to_owned(), value);
    }

    fn into_object(self) -> Map<String, Value> {
        let mut object = self.single;
        for (name, items) in self.repeated {
            object.insert(name.to_owned(), Value::Array(items));
        }
        for (name, entries) in self.maps {
            object.insert(name.to_owned(), Value::Object(entries));
        }
        object
    }
}

/// Whether a scalar is its type's zero value, which Go's `omitempty` leaves out.
fn is_zero(value: &Value) -> bool {
    match value {
        Value::Bool(set) => !set,
        Value::Number(number) => number.as_i64() == Some(0),
        Value::String(text) => text.is_empty(),
        _ => false,
    }
}

/// Appends one wire occurrence of a repeated field: a single element, or for varint kinds
/// possibly a packed run of them.
fn decode_repeated(
    message: &'static Message,
    field: &'static Field,
    value: WireValue<'_>,
    depth: usize,
    items: &mut Vec<Value>,
) -> Result<(), ProtobufError> {
    match value {
        WireValue::LengthDelimited(payload) if field.kind.is_varint() => {
            for element in wire::packed_varints(payload) {
                items.push(decode_value(
                    message,
                    field,
                    WireValue::Varint(element?),
                    depth,
                )?);
            }
        }
        single => items.push(decode_value(message, field, single, depth)?),
    }
    Ok(())
}

/// Decodes one map entry message (key = 1, value = 2). A missing key or value stands for
/// its zero value, as in protobuf.
fn decode_map_entry(
    message: &'static Message,
    field: &'static Field,
    entry: WireValue<'_>,
    depth: usize,
) -> Result<(String, Value), ProtobufError> {
    let mut key = "";
    let mut value = if field.kind.is_varint() {
        WireValue::Varint(0)
    } else {
        WireValue::LengthDelimited(&[])
    };
    for item in wire::fields(entry.bytes(message.name, field.json)?) {
        match item? {
            (1, wire_key) => key = wire_key.string(message.name, field.json)?,
            (2, wire_value) => value = wire_value,
            _ => {}
        }
    }
    Ok((key.to_owned(), decode_value(message, field, value, depth)?))
}

/// Decodes one value of `field` (one element, for repeated fields and maps).
fn decode_value(
    message: &'static Message,
    field: &'static Field,
    value: WireValue<'_>,
    depth: usize,
) -> Result<Value, ProtobufError> {
    match (field.kind, value) {
        (Kind::Bool, WireValue::Varint(number)) => Ok(Value::Bool(number != 0)),
        // An int32 travels sign-extended to 64 bits; its low 32 bits are the value.
        (Kind::Int32, WireValue::Varint(number)) => Ok(Value::from(number as i32)),
        (Kind::Int64, WireValue::Varint(number)) => Ok(Value::from(number as i64)),
        (Kind::String, WireValue::LengthDelimited(bytes)) => {
            Ok(Value::from(wire::utf8(bytes, message.name, field.json)?))
        }
        (Kind::Bytes, WireValue::LengthDelimited(bytes)) => Ok(Value::from(BASE64.encode(bytes))),
        (Kind::Message(inner), WireValue::LengthDelimited(bytes)) => {
            decode_message(inner, bytes, depth).map(Value::Object)
        }
        (Kind::Time, WireValue::LengthDelimited(bytes)) => well_known::time(bytes, depth),
        (Kind::MicroTime, WireValue::LengthDelimited(bytes)) => {
            well_known::micro_time(bytes, depth)
        }
        (Kind::Quantity, WireValue::LengthDelimited(bytes)) => well_known::quantity(bytes, depth),
        (Kind::IntOrString, WireValue::LengthDelimited(bytes)) => {
            well_known::int_or_string(bytes, depth)
        }
        (Kind::EmbeddedJson, WireValue::LengthDelimited(bytes)) => {
            well_known::embedded_json(bytes, message.name, field.json)
        }
        (Kind::StringList, WireValue::LengthDelimited(bytes)) => {
            well_known::string_list(bytes, depth)
        }
        (_, value) => Err(mismatch(message, field, value)),
    }
}

fn mismatch(
    message: &'static Message,
    field: &'static Field,
    value: WireValue<'_>,
) -> ProtobufError {
    ProtobufError::WireTypeMismatch {
        message: message.name,
        field: field.json,
        found: value.wire_type(),
    }
}
