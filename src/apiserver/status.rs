//! `metav1.Status`, the body of every error and of the answers that carry no object, written
//! field for field as upstream writes it. Clients compare these bodies byte for byte (the
//! Python client's own tests do), so the order of the fields is upstream's struct order, empty
//! fields are left out as Go's `omitempty` leaves them out, and the group of the core API, "",
//! never appears.

use serde::Serialize;

/// A Status: `Failure` for errors, `Success` for completed deletes and subresource actions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    kind: &'static str,
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    metadata: ListMeta,
    status: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    message: String,
    #[serde(skip_serializing_if = "str::is_empty")]
    reason: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<Details>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<u16>,
}

/// Always empty: a Status has no resourceVersion of its own.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct ListMeta {}

/// What the Status is about. `kind` is the resource's plural, as upstream fills it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Details {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub group: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub uid: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<Cause>,
}

/// One reason among several for a failure, such as one invalid field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cause {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub field: String,
}

impl Status {
    /// A failure answered with HTTP `code`.
    pub fn failure(code: u16, reason: &'static str, message: String) -> Status {
        Status {
            kind: "Status",
            api_version: "v1",
            metadata: ListMeta {},
            status: "Failure",
            message,
            reason,
            details: None,
            code: Some(code),
        }
    }

    /// A success; `code` is left out where upstream leaves it out (completed deletes).
    pub fn success(code: Option<u16>) -> Status {
        Status {
            status: "Success",
            message: String::new(),
            reason: "",
            code,
            ..Status::failure(0, "", String::new())
        }
    }

    pub fn with_details(mut self, details: Details) -> Status {
        self.details = Some(details);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conflict_is_written_as_upstream_writes_it() {
        let status = Status::failure(
            409,
            "AlreadyExists",
            "services \"mock-2\" already exists".into(),
        )
        .with_details(Details {
            name: "mock-2".into(),
            kind: "services".into(),
            ..Details::default()
        });
        assert_eq!(
            serde_json::to_string(&status).unwrap(),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"services \"mock-2\" already exists","reason":"AlreadyExists","details":{"name":"mock-2","kind":"services"},"code":409}"#
        );
    }

    #[test]
    fn a_completed_delete_names_what_went_without_a_code() {
        let status = Status::success(None).with_details(Details {
            name: "web".into(),
            group: "apps".into(),
            kind: "deployments".into(),
            uid: "u-1".into(),
            ..Details::default()
        });
        assert_eq!(
            serde_json::to_string(&status).unwrap(),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","details":{"name":"web","group":"apps","kind":"deployments","uid":"u-1"}}"#
        );
    }
}
