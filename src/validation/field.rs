//! Field errors and field paths, shaped like apimachinery's `field.Error` and `field.Path`, so
//! every error renders exactly as kube-apiserver renders it.

use std::fmt;

use super::go::GoValue;

/// The kinds of field error, one for each of upstream's `field.ErrorType` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    Required,
    Duplicate,
    Invalid,
    NotSupported,
    Forbidden,
    TooLong,
    TooMany,
    Internal,
    TypeInvalid,
}

impl ErrorKind {
    /// The `reason` of a Status cause (`metav1.CauseType`).
    pub fn reason(self) -> &'static str {
        match self {
            Self::NotFound => "FieldValueNotFound",
            Self::Required => "FieldValueRequired",
            Self::Duplicate => "FieldValueDuplicate",
            Self::Invalid => "FieldValueInvalid",
            Self::NotSupported => "FieldValueNotSupported",
            Self::Forbidden => "FieldValueForbidden",
            Self::TooLong => "FieldValueTooLong",
            Self::TooMany => "FieldValueTooMany",
            Self::Internal => "InternalError",
            Self::TypeInvalid => "FieldValueTypeInvalid",
        }
    }

    /// The words that open the cause message.
    fn words(self) -> &'static str {
        match self {
            Self::NotFound => "Not found",
            Self::Required => "Required value",
            Self::Duplicate => "Duplicate value",
            Self::Invalid | Self::TypeInvalid => "Invalid value",
            Self::NotSupported => "Unsupported value",
            Self::Forbidden => "Forbidden",
            Self::TooLong => "Too long",
            Self::TooMany => "Too many",
            Self::Internal => "Internal error",
        }
    }

    /// Upstream never prints the offending value of these kinds.
    fn hides_value(self) -> bool {
        matches!(
            self,
            Self::Required | Self::Forbidden | Self::TooLong | Self::Internal
        )
    }
}

/// One invalid field, as upstream's `field.Error`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub kind: ErrorKind,
    /// The field path, e.g. `spec.template.spec.containers[0].image`.
    pub field: String,
    /// The offending value, already rendered the way upstream prints it; `None` leaves it out.
    pub value: Option<String>,
    pub detail: String,
}

/// The errors of one object, in the order upstream reports them.
pub type ErrorList = Vec<FieldError>;

impl FieldError {
    fn new(kind: ErrorKind, path: &Path, value: Option<String>, detail: impl Into<String>) -> Self {
        Self {
            kind,
            field: path.to_string(),
            value,
            detail: detail.into(),
        }
    }

    pub fn required(path: &Path, detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Required, path, None, detail)
    }

    pub fn invalid(path: &Path, value: impl GoValue, detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, path, Some(value.go_value()), detail)
    }

    /// An invalid value whose value is not shown (upstream's `field.OmitValueType`).
    pub fn invalid_omitted(path: &Path, detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, path, None, detail)
    }

    /// A value outside an enumeration; `supported` is listed in the order given.
    pub fn not_supported<S: AsRef<str>>(path: &Path, value: impl GoValue, supported: &[S]) -> Self {
        let detail = if supported.is_empty() {
            String::new()
        } else {
            let quoted: Vec<String> = supported
                .iter()
                .map(|s| super::go::quote(s.as_ref()))
                .collect();
            format!("supported values: {}", quoted.join(", "))
        };
        Self::new(
            ErrorKind::NotSupported,
            path,
            Some(value.go_value()),
            detail,
        )
    }

    pub fn duplicate(path: &Path, value: impl GoValue) -> Self {
        Self::new(ErrorKind::Duplicate, path, Some(value.go_value()), "")
    }

    pub fn not_found(path: &Path, value: impl GoValue) -> Self {
        Self::new(ErrorKind::NotFound, path, Some(value.go_value()), "")
    }

    pub fn forbidden(path: &Path, detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, path, None, detail)
    }

    pub fn too_long(path: &Path, max_bytes: usize) -> Self {
        Self::new(
            ErrorKind::TooLong,
            path,
            None,
            format!("may not be more than {max_bytes} bytes"),
        )
    }

    pub fn too_many(path: &Path, actual: usize, max: usize) -> Self {
        Self::new(
            ErrorKind::TooMany,
            path,
            Some(actual.to_string()),
            format!("must have at most {max} items"),
        )
    }

    pub fn internal(path: &Path, detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, path, None, detail)
    }

    /// The cause `reason`, e.g. `FieldValueInvalid`.
    pub fn reason(&self) -> &'static str {
        self.kind.reason()
    }

    /// The cause message without the field: `Invalid value: -1: must be greater than or equal to 0`.
    pub fn message(&self) -> String {
        let mut message = self.kind.words().to_string();
        if let Some(value) = self.value.as_deref().filter(|_| !self.kind.hides_value()) {
            message.push_str(": ");
            message.push_str(value);
        }
        if !self.detail.is_empty() {
            message.push_str(": ");
            message.push_str(&self.detail);
        }
        message
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message())
    }
}

/// A field path under construction, rendered like upstream's `field.Path`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path(String);

impl Path {
    pub fn new(name: &str) -> Self {
        Self(name.to_string())
    }

    pub fn child(&self, name: &str) -> Self {
        if self.0.is_empty() {
            Self::new(name)
        } else {
            Self(format!("{}.{name}", self.0))
        }
    }

    pub fn index(&self, index: usize) -> Self {
        Self(format!("{}[{index}]", self.0))
    }

    pub fn key(&self, key: &str) -> Self {
        Self(format!("{}[{key}]", self.0))
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_follow_upstream_error_bodies() {
        let path = Path::new("spec").child("replicas");
        assert_eq!(
            FieldError::invalid(&path, -1i64, "must be greater than or equal to 0").to_string(),
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0"
        );
        assert_eq!(
            FieldError::required(&path, "").to_string(),
            "spec.replicas: Required value"
        );
        assert_eq!(
            FieldError::not_supported(&path, "Foo", &["Always", "IfNotPresent", "Never"]).message(),
            "Unsupported value: \"Foo\": supported values: \"Always\", \"IfNotPresent\", \"Never\""
        );
        assert_eq!(
            FieldError::too_long(&path, 10).message(),
            "Too long: may not be more than 10 bytes"
        );
        assert_eq!(
            FieldError::too_many(&path, 3, 2).message(),
            "Too many: 3: must have at most 2 items"
        );
        assert_eq!(
            FieldError::forbidden(&path, "nope").message(),
            "Forbidden: nope"
        );
        assert_eq!(
            FieldError::duplicate(&path, "a").message(),
            "Duplicate value: \"a\""
        );
        assert_eq!(
            FieldError::not_found(&path, "a").message(),
            "Not found: \"a\""
        );
        assert_eq!(
            FieldError::invalid_omitted(&path, "bad").message(),
            "Invalid value: bad"
        );
        assert_eq!(
            FieldError::internal(&path, "boom").reason(),
            "InternalError"
        );
    }

    #[test]
    fn paths_render_children_indices_and_keys() {
        let path = Path::new("spec")
            .child("containers")
            .index(0)
            .child("env")
            .key("A");
        assert_eq!(path.to_string(), "spec.containers[0].env[A]");
        assert_eq!(Path::new("").child("data").to_string(), "data");
    }
}
