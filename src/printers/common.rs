//! What every printer shares: the Name and Age columns, the CONTAINERS and IMAGES columns of
//! workloads, the "first three, + N more..." lists, load-balancer addresses, `<none>` for unset
//! text, quantities, and upstream's default table for resources without a printer of their own.

use std::collections::BTreeSet;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{Column, Printer, duration};

pub(crate) const NAME_DESCRIPTION: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";

pub(crate) const CREATION_TIMESTAMP_DESCRIPTION: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/// The object's name; kubectl recognises it by its "name" format.
pub(super) const NAME: Column = Column {
    format: "name",
    ..Column::string("Name", NAME_DESCRIPTION)
};

/// How long ago the object was created.
pub(super) const AGE: Column = Column::string("Age", CREATION_TIMESTAMP_DESCRIPTION);

pub(super) const CONTAINERS: Column =
    Column::string("Containers", "Names of each container in the template.").wide();

pub(super) const IMAGES: Column = Column::string(
    "Images",
    "Images referenced by each container in the template.",
)
.wide();

/// The API defaults unset replica counts of workloads to one.
pub(super) const DEFAULT_REPLICAS: i32 = 1;

/// Upstream's table for resources without a printer: the name and the creation time.
pub(super) static DEFAULT: Printer = Printer {
    columns: &[
        NAME,
        Column {
            kind: "date",
            ..Column::string("Created At", CREATION_TIMESTAMP_DESCRIPTION)
        },
    ],
    row: default_row,
};

fn default_row(object: &Value, _now: Timestamp) -> Option<Vec<Value>> {
    let meta: ObjectMeta = object
        .get("metadata")
        .map_or(Some(ObjectMeta::default()), parse)?;
    Some(vec![
        name(&meta),
        rfc3339(meta.creation_timestamp.as_ref()).into(),
    ])
}

/// The time as Go's RFC 3339 layout prints it: UTC, to the second. An unset time prints as
/// Go's zero time, the first second of year 1.
fn rfc3339(time: Option<&Time>) -> String {
    time.map_or_else(
        || "0001-01-01T00:00:00Z".to_owned(),
        |time| time.0.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}

/// Reads a JSON value as a typed API object, `None` when it does not have that shape.
pub(super) fn parse<T: DeserializeOwned>(object: &Value) -> Option<T> {
    T::deserialize(object).ok()
}

/// The Name cell.
pub(super) fn name(meta: &ObjectMeta) -> Value {
    meta.name.clone().unwrap_or_default().into()
}

/// The Age cell.
pub(super) fn age(meta: &ObjectMeta, now: Timestamp) -> Value {
    duration::since(meta.creation_timestamp.as_ref().map(|time| time.0), now).into()
}

/// The CONTAINERS and IMAGES cells of a workload: the template's container names and images,
/// each comma-separated.
pub(super) fn container_cells(template: Option<&PodTemplateSpec>) -> [Value; 2] {
    let containers = template
        .and_then(|template| template.spec.as_ref())
        .map(|spec| spec.containers.as_slice());
    let containers = containers.unwrap_or_default();
    let names: Vec<&str> = containers
        .iter()
        .map(|container| container.name.as_str())
        .collect();
    let images: Vec<&str> = containers
        .iter()
        .map(|container| container.image.as_deref().unwrap_or_default())
        .collect();
    [names.join(",").into(), images.join(",").into()]
}

/// The first three entries joined with commas, followed by " + N more..." when there are more.
pub(super) fn first_three(entries: impl IntoIterator<Item = String>) -> String {
    const SHOWN: usize = 3;
    let mut shown = Vec::with_capacity(SHOWN);
    let mut total = 0;
    for entry in entries {
        if shown.len() < SHOWN {
            shown.push(entry);
        }
        total += 1;
    }
    let joined = shown.join(",");
    if total > SHOWN {
        format!("{joined} + {} more...", total - SHOWN)
    } else {
        joined
    }
}

/// The text, or `<none>` when it is unset or empty.
pub(super) fn or_none(value: Option<&str>) -> &str {
    value.filter(|value| !value.is_empty()).unwrap_or("<none>")
}

/// A quantity as stored. A missing one reads as Go's zero quantity, which prints as "0".
pub(super) fn quantity(quantity: Option<&Quantity>) -> String {
    quantity.map_or_else(|| "0".to_owned(), |quantity| quantity.0.clone())
}

/// Load-balancer ingress points given as (IP, hostname), each by its IP or else its hostname,
/// sorted and deduplicated; services and ingresses show them alike.
pub(super) fn ingress_addresses<'a>(
    points: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> Vec<String> {
    let addresses: BTreeSet<&str> = points
        .into_iter()
        .filter_map(|(ip, hostname)| {
            let ip = ip.filter(|ip| !ip.is_empty());
            ip.or(hostname).filter(|address| !address.is_empty())
        })
        .collect();
    addresses.into_iter().map(str::to_owned).collect()
}
