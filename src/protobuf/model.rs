//! The vocabulary of the schema table: messages, their fields and the top-level kinds.
//! The table itself (`schema.rs`) is generated; these types keep it plain static data.

/// A protobuf message type.
pub(super) struct Message {
    /// Group-version-qualified name, for error messages (`apps/v1.DeploymentSpec`).
    pub(super) name: &'static str,
    /// Sorted by tag, so lookups can binary-search.
    pub(super) fields: &'static [Field],
}

impl Message {
    pub(super) const fn new(name: &'static str, fields: &'static [Field]) -> Self {
        Self { name, fields }
    }

    /// The field with this tag; `None` for fields the schema does not know, which the
    /// decoder skips as protobuf requires.
    pub(super) fn field(&self, tag: u32) -> Option<&'static Field> {
        let fields = self.fields;
        let index = fields.binary_search_by_key(&tag, |field| field.tag).ok()?;
        fields.get(index)
    }
}

/// One field of a message.
pub(super) struct Field {
    pub(super) tag: u32,
    /// The Kubernetes JSON name (`clusterIPs`, `podCIDR`).
    pub(super) json: &'static str,
    pub(super) kind: Kind,
    pub(super) shape: Shape,
}

impl Field {
    pub(super) const fn new(tag: u32, json: &'static str, kind: Kind, shape: Shape) -> Self {
        Self {
            tag,
            json,
            kind,
            shape,
        }
    }
}

/// What a field (or each element or map value of it) holds, and so its JSON form.
#[derive(Clone, Copy)]
pub(super) enum Kind {
    Bool,
    Int32,
    Int64,
    String,
    /// A JSON base64 string.
    Bytes,
    /// A JSON object.
    Message(&'static Message),
    /// `meta.v1.Time`: an RFC 3339 string with whole seconds, or null.
    Time,
    /// `meta.v1.MicroTime`: an RFC 3339 string with microseconds, or null.
    MicroTime,
    /// `api.resource.Quantity`: its string form.
    Quantity,
    /// `util.intstr.IntOrString`: a JSON number or string.
    IntOrString,
    /// `runtime.RawExtension` and `meta.v1.FieldsV1`: raw bytes holding JSON.
    EmbeddedJson,
    /// A message wrapping `repeated string items` (`ExtraValue`, `Verbs`): a JSON array.
    StringList,
}

impl Kind {
    /// Whether values of this kind travel as varints (and so may be packed when repeated).
    pub(super) fn is_varint(self) -> bool {
        matches!(self, Self::Bool | Self::Int32 | Self::Int64)
    }
}

/// How a field's values map onto its JSON member.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    /// One value, always emitted when on the wire.
    Single,
    /// One scalar value whose zero (`0`, `false`, `""`) is left out, as Go's `omitempty`
    /// does: Go's encoder writes such fields even when they are zero.
    OmitEmpty,
    /// A JSON array; each wire occurrence adds elements.
    Repeated,
    /// A JSON object with string keys; each wire occurrence is one key=1, value=2 entry.
    Map,
    /// A Go embedded struct: its message's members join the enclosing JSON object.
    Inline,
}

/// A top-level kind the decoder accepts, and the message its body holds.
pub(super) struct Root {
    pub(super) api_version: &'static str,
    pub(super) kind: &'static str,
    pub(super) message: &'static Message,
}

impl Root {
    pub(super) const fn new(
        api_version: &'static str,
        kind: &'static str,
        message: &'static Message,
    ) -> Self {
        Self {
            api_version,
            kind,
            message,
        }
    }
}
