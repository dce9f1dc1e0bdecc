//! The API services table of apiregistration.k8s.io, as kube-apiserver's aggregator prints it:
//! the service behind each API version ("Local" for those it serves itself) and whether it is
//! available.

use jiff::Timestamp;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::{
    APIService, APIServiceCondition,
};
use serde_json::Value;

use super::common::{self, AGE, NAME};
use super::{Column, Printer};

pub(super) static API_SERVICES: Printer = Printer {
    columns: &COLUMNS,
    row,
};

const COLUMNS: [Column; 4] = [
    NAME,
    Column::string(
        "Service",
        "The reference to the service that hosts this API endpoint.",
    ),
    Column::string("Available", "Whether this service is available."),
    AGE,
];

fn row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let service: APIService = common::parse(object)?;
    let backend = service
        .spec
        .as_ref()
        .and_then(|spec| spec.service.as_ref())
        .map_or_else(
            || "Local".to_owned(),
            |backend| {
                let namespace = backend.namespace.as_deref().unwrap_or_default();
                let name = backend.name.as_deref().unwrap_or_default();
                format!("{namespace}/{name}")
            },
        );
    let conditions = service
        .status
        .as_ref()
        .and_then(|status| status.conditions.as_deref())
        .unwrap_or_default();
    Some(vec![
        common::name(&service.metadata),
        backend.into(),
        availability(conditions).into(),
        common::age(&service.metadata, now),
    ])
}

/// "True" when available; otherwise the status with its reason when there is one
/// ("False (MissingEndpoints)"); "Unknown" before anything has checked.
fn availability(conditions: &[APIServiceCondition]) -> String {
    let Some(condition) = conditions
        .iter()
        .find(|condition| condition.type_ == "Available")
    else {
        return "Unknown".to_owned();
    };
    match condition.reason.as_deref() {
        Some(reason) if condition.status != "True" && !reason.is_empty() => {
            format!("{} ({reason})", condition.status)
        }
        _ => condition.status.clone(),
    }
}
