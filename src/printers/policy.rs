//! The pod disruption budgets table of the policy group: the budget each sets and how many
//! disruptions it allows right now.

use jiff::Timestamp;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

use super::common::{self, AGE, NAME};
use super::{Column, Printer};

pub(super) static POD_DISRUPTION_BUDGETS: Printer = Printer {
    columns: &COLUMNS,
    row,
};

const COLUMNS: [Column; 5] = [
    NAME,
    Column::string(
        "Min Available",
        "The minimum number of pods that must be available.",
    ),
    Column::string(
        "Max Unavailable",
        "The maximum number of pods that may be unavailable.",
    ),
    Column::integer(
        "Allowed Disruptions",
        "Calculated number of pods that may be disrupted at this time.",
    ),
    AGE,
];

fn row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let budget: PodDisruptionBudget = common::parse(object)?;
    let spec = budget.spec.unwrap_or_default();
    let allowed = budget.status.map_or(0, |status| status.disruptions_allowed);
    Some(vec![
        common::name(&budget.metadata),
        bound(spec.min_available.as_ref()).into(),
        bound(spec.max_unavailable.as_ref()).into(),
        allowed.into(),
        common::age(&budget.metadata, now),
    ])
}

/// A count ("1") or a percentage ("50%") as written; a budget sets only one of its two bounds,
/// and the other shows as `N/A`.
fn bound(value: Option<&IntOrString>) -> String {
    match value {
        Some(IntOrString::Int(count)) => count.to_string(),
        Some(IntOrString::String(text)) => text.clone(),
        None => "N/A".to_owned(),
    }
}
