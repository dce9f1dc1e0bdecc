//! Protobuf wire-format reading: keys, varints and length-delimited payloads, knowing
//! nothing of any schema, so the envelope, the schema-driven decoder and the well-known
//! types all share one bounds-checked reader.

use std::fmt;

use super::ProtobufError;

/// How a field's value travels on the wire (the low three bits of its key).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireType {
    Varint,
    Fixed64,
    LengthDelimited,
    Fixed32,
}

impl fmt::Display for WireType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Varint => "varint",
            Self::Fixed64 => "64-bit",
            Self::LengthDelimited => "length-delimited",
            Self::Fixed32 => "32-bit",
        })
    }
}

/// One field value as read from the wire. Fixed-width values carry no payload: no type in
/// the schema is fixed-width, so they are only ever skipped or reported as mismatches.
#[derive(Clone, Copy, Debug)]
pub(super) enum WireValue<'a> {
    Varint(u64),
    Fixed64,
    LengthDelimited(&'a [u8]),
    Fixed32,
}

impl<'a> WireValue<'a> {
    pub(super) fn wire_type(self) -> WireType {
        match self {
            Self::Varint(_) => WireType::Varint,
            Self::Fixed64 => WireType::Fixed64,
            Self::LengthDelimited(_) => WireType::LengthDelimited,
            Self::Fixed32 => WireType::Fixed32,
        }
    }

    /// The payload of a length-delimited value; `message` and `field` name it in errors.
    pub(super) fn bytes(
        self,
        message: &'static str,
        field: &'static str,
    ) -> Result<&'a [u8], ProtobufError> {
        match self {
            Self::LengthDelimited(bytes) => Ok(bytes),
            other => Err(ProtobufError::WireTypeMismatch {
                message,
                field,
                found: other.wire_type(),
            }),
        }
    }

    /// The payload of a length-delimited value, which must be UTF-8.
    pub(super) fn string(
        self,
        message: &'static str,
        field: &'static str,
    ) -> Result<&'a str, ProtobufError> {
        utf8(self.bytes(message, field)?, message, field)
    }
}

/// Reads `bytes` as the UTF-8 text of a string field.
pub(super) fn utf8<'a>(
    bytes: &'a [u8],
    message: &'static str,
    field: &'static str,
) -> Result<&'a str, ProtobufError> {
    std::str::from_utf8(bytes).map_err(|_| ProtobufError::InvalidUtf8 { message, field })
}

/// The fields of an encoded message, as (field number, value) in wire order.
pub(super) fn fields(message: &[u8]) -> Fields<'_> {
    Fields { rest: message }
}

/// Iterator over the fields of an encoded message; stops after the first error.
pub(super) struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u32, WireValue<'a>), ProtobufError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let field = self.read_field();
        if field.is_err() {
            self.rest = &[];
        }
        Some(field)
    }
}

impl<'a> Fields<'a> {
    fn read_field(&mut self) -> Result<(u32, WireValue<'a>), ProtobufError> {
        let key = read_varint(&mut self.rest)?;
        let number = key >> 3;
        let number = u32::try_from(number)
            .ok()
            .filter(|&number| number != 0)
            .ok_or(ProtobufError::InvalidFieldNumber(number))?;
        let value = match key & 0b111 {
            0 => WireValue::Varint(read_varint(&mut self.rest)?),
            1 => {
                self.skip(8)?;
                WireValue::Fixed64
            }
            2 => WireValue::LengthDelimited(self.read_length_delimited()?),
            5 => {
                self.skip(4)?;
                WireValue::Fixed32
            }
            other => return Err(ProtobufError::UnsupportedWireType(other)),
        };
        Ok((number, value))
    }

    fn read_length_delimited(&mut self) -> Result<&'a [u8], ProtobufError> {
        let length = read_varint(&mut self.rest)?;
        let out_of_bounds = ProtobufError::LengthOutOfBounds {
            length,
            available: self.rest.len(),
        };
        let (payload, rest) = usize::try_from(length)
            .ok()
            .and_then(|length| self.rest.split_at_checked(length))
            .ok_or(out_of_bounds)?;
        self.rest = rest;
        Ok(payload)
    }

    fn skip(&mut self, width: usize) -> Result<(), ProtobufError> {
        let (_, rest) = self
            .rest
            .split_at_checked(width)
            .ok_or(ProtobufError::Truncated)?;
        self.rest = rest;
        Ok(())
    }
}

/// The varints of a packed repeated field's payload.
pub(super) fn packed_varints(payload: &[u8]) -> impl Iterator<Item = Result<u64, ProtobufError>> {
    let mut rest = payload;
    std::iter::from_fn(move || (!rest.is_empty()).then(|| read_varint(&mut rest)))
}

/// Reads one base-128 varint off the front of `input`.
fn read_varint(input: &mut &[u8]) -> Result<u64, ProtobufError> {
    let mut value = 0;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = input.split_first().ok_or(ProtobufError::Truncated)?;
        *input = rest;
        if shift == 63 && byte > 1 {
            return Err(ProtobufError::VarintOverflow);
        }
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(ProtobufError::VarintOverflow)
}
