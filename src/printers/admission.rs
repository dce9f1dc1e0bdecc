//! Tables of admissionregistration.k8s.io: validating and mutating webhook configurations, with
//! how many webhooks each registers.

use jiff::Timestamp;
use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
};
use serde_json::Value;

use super::common::{self, AGE, NAME};
use super::{Column, Printer};

pub(super) static VALIDATING_WEBHOOK_CONFIGURATIONS: Printer = Printer {
    columns: &COLUMNS,
    row: validating_row,
};
pub(super) static MUTATING_WEBHOOK_CONFIGURATIONS: Printer = Printer {
    columns: &COLUMNS,
    row: mutating_row,
};

const COLUMNS: [Column; 3] = [
    NAME,
    Column::integer(
        "Webhooks",
        "Webhooks indicates the number of webhooks registered in this configuration",
    ),
    AGE,
];

fn validating_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let configuration: ValidatingWebhookConfiguration = common::parse(object)?;
    Some(vec![
        common::name(&configuration.metadata),
        configuration.webhooks.as_ref().map_or(0, Vec::len).into(),
        common::age(&configuration.metadata, now),
    ])
}

fn mutating_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let configuration: MutatingWebhookConfiguration = common::parse(object)?;
    Some(vec![
        common::name(&configuration.metadata),
        configuration.webhooks.as_ref().map_or(0, Vec::len).into(),
        common::age(&configuration.metadata, now),
    ])
}
