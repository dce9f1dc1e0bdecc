//! The runtime classes table of node.k8s.io: the container runtime handler behind each class.

use jiff::Timestamp;
use k8s_openapi::api::node::v1::RuntimeClass;
use serde_json::Value;

use super::common::{self, AGE, NAME};
use super::{Column, Printer};

pub(super) static RUNTIME_CLASSES: Printer = Printer {
    columns: &COLUMNS,
    row,
};

const COLUMNS: [Column; 3] = [
    NAME,
    // Upstream looks this description up among the object metadata's fields, which have no
    // "handler", so it is empty.
    Column::string("Handler", ""),
    AGE,
];

fn row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let class: RuntimeClass = common::parse(object)?;
    Some(vec![
        common::name(&class.metadata),
        class.handler.into(),
        common::age(&class.metadata, now),
    ])
}
