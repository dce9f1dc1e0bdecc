//! `meta.k8s.io/v1` Tables: the printers' columns and cells wrapped the way kubectl reads them,
//! each row carrying the object (or its metadata) as `includeObject` asks.

use serde_json::{Value, json};

use super::codec::{IncludeObject, partial_metadata};
use crate::printers;
use crate::registry::Resource;

/// The column definitions of a resource's Table: its kind's own, or the built-in printer's.
pub fn column_definitions(resource: &Resource) -> Vec<Value> {
    if let Some(columns) = resource.strategy.columns() {
        return columns;
    }
    printers::columns(resource.group, resource.plural)
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "type": c.kind,
                "format": c.format,
                "description": c.description,
                "priority": c.priority,
            })
        })
        .collect()
}

/// One row of a resource's Table.
pub fn row(
    resource: &Resource,
    object: &Value,
    include: IncludeObject,
    now: jiff::Timestamp,
) -> Value {
    let cells = resource
        .strategy
        .cells(object, now)
        .unwrap_or_else(|| printers::cells(resource.group, resource.plural, object, now));
    let mut row = json!({ "cells": cells });
    match include {
        IncludeObject::Object => row["object"] = object.clone(),
        IncludeObject::Metadata => row["object"] = partial_metadata(object),
        IncludeObject::None => {}
    }
    row
}

/// A Table of `objects` with the list metadata given.
pub fn table(
    resource: &Resource,
    objects: &[Value],
    metadata: Value,
    include: IncludeObject,
) -> Value {
    let now = jiff::Timestamp::now();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": column_definitions(resource),
        "rows": objects.iter().map(|o| row(resource, o, include, now)).collect::<Vec<_>>(),
    })
}
