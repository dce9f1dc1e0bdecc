//! The events table, for both `v1` and `events.k8s.io/v1` events, which are one stored kind read
//! through two API shapes: when it happened, what it is about, and what it says.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{self as core_v1, EventSource, ObjectReference};
use k8s_openapi::api::events::v1 as events_v1;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use super::common::{self, NAME};
use super::{Column, Printer, duration};

pub(super) static EVENTS: Printer = Printer {
    columns: &COLUMNS,
    row: core_row,
};
pub(super) static EVENTS_V1: Printer = Printer {
    columns: &COLUMNS,
    row: events_v1_row,
};

const COLUMNS: [Column; 10] = [
    Column::string("Last Seen", "The time at which the most recent occurrence of this event was recorded."),
    Column::string("Type", "Type of this event (Normal, Warning), new types could be added in the future"),
    Column::string(
        "Reason",
        "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
    ),
    Column::string("Object", "The object that this event is about."),
    Column::string(
        "Subobject",
        "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: \"spec.containers{name}\" (where \"name\" refers to the name of the container that triggered the event) or if no container name is specified \"spec.containers[2]\" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.",
    )
    .wide(),
    Column::string("Source", "The component reporting this event. Should be a short machine understandable string.")
        .wide(),
    Column::string("Message", "A human-readable description of the status of this operation."),
    Column::string(
        "First Seen",
        "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
    )
    .wide(),
    Column::string("Count", "The number of times this event has occurred.").wide(),
    NAME.wide(),
];

/// An event's printed fields, whichever API shape it was read through.
struct Record {
    metadata: ObjectMeta,
    type_: Option<String>,
    reason: Option<String>,
    regarding: ObjectReference,
    source: EventSource,
    reporting_controller: Option<String>,
    reporting_instance: Option<String>,
    message: Option<String>,
    first_timestamp: Option<Timestamp>,
    last_timestamp: Option<Timestamp>,
    event_time: Option<Timestamp>,
    count: i32,
    /// For a repeating event: how often it has happened and when it was last seen.
    series: Option<(i32, Option<Timestamp>)>,
}

fn core_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let event: core_v1::Event = common::parse(object)?;
    let record = Record {
        metadata: event.metadata,
        type_: event.type_,
        reason: event.reason,
        regarding: event.involved_object,
        source: event.source.unwrap_or_default(),
        reporting_controller: event.reporting_component,
        reporting_instance: event.reporting_instance,
        message: event.message,
        first_timestamp: event.first_timestamp.map(|time| time.0),
        last_timestamp: event.last_timestamp.map(|time| time.0),
        event_time: event.event_time.map(|time| time.0),
        count: event.count.unwrap_or(0),
        series: event.series.map(|series| {
            (
                series.count.unwrap_or(0),
                series.last_observed_time.map(|time| time.0),
            )
        }),
    };
    Some(record_cells(record, now))
}

fn events_v1_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let event: events_v1::Event = common::parse(object)?;
    let record = Record {
        metadata: event.metadata,
        type_: event.type_,
        reason: event.reason,
        regarding: event.regarding.unwrap_or_default(),
        source: event.deprecated_source.unwrap_or_default(),
        reporting_controller: event.reporting_controller,
        reporting_instance: event.reporting_instance,
        message: event.note,
        first_timestamp: event.deprecated_first_timestamp.map(|time| time.0),
        last_timestamp: event.deprecated_last_timestamp.map(|time| time.0),
        event_time: event.event_time.map(|time| time.0),
        count: event.deprecated_count.unwrap_or(0),
        series: event
            .series
            .map(|series| (series.count, Some(series.last_observed_time.0))),
    };
    Some(record_cells(record, now))
}

fn record_cells(record: Record, now: Timestamp) -> Vec<Value> {
    // Events from the newer API carry an event time instead of a first timestamp, and a series
    // instead of a count.
    let first_seen = duration::since(record.first_timestamp.or(record.event_time), now);
    let last_seen = match record.last_timestamp {
        Some(last) => duration::since(Some(last), now),
        None => first_seen.clone(),
    };
    let (last_seen, count) = match record.series {
        Some((count, last_observed)) => (duration::since(last_observed, now), count),
        // An event recorded once may leave its count unset.
        None if record.count == 0 => (last_seen, 1),
        None => (last_seen, record.count),
    };
    vec![
        last_seen.into(),
        record.type_.unwrap_or_default().into(),
        record.reason.unwrap_or_default().into(),
        regarding(&record.regarding).into(),
        record.regarding.field_path.unwrap_or_default().into(),
        source(
            &record.source,
            record.reporting_controller,
            record.reporting_instance,
        )
        .into(),
        record.message.as_deref().unwrap_or_default().trim().into(),
        first_seen.into(),
        count.into(),
        common::name(&record.metadata),
    ]
}

/// "kind/name" in lower-case kind, or just the kind when the event names no object.
fn regarding(object: &ObjectReference) -> String {
    let kind = object.kind.as_deref().unwrap_or_default().to_lowercase();
    match object.name.as_deref().filter(|name| !name.is_empty()) {
        Some(name) => format!("{kind}/{name}"),
        None => kind,
    }
}

/// "component, host", falling back to the reporting controller and instance, and leaving the
/// host out when there is none.
fn source(source: &EventSource, controller: Option<String>, instance: Option<String>) -> String {
    let component = non_empty(source.component.clone())
        .or(non_empty(controller))
        .unwrap_or_default();
    match non_empty(source.host.clone()).or(non_empty(instance)) {
        Some(host) => format!("{component}, {host}"),
        None => component,
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|value| !value.is_empty())
}
