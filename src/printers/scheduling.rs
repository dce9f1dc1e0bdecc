//! The priority classes table of scheduling.k8s.io: each class's value, whether it is the
//! global default, and whether its pods may preempt others.

use jiff::Timestamp;
use k8s_openapi::api::scheduling::v1::PriorityClass;
use serde_json::Value;

use super::common::{self, AGE, NAME};
use super::{Column, Printer};

pub(super) static PRIORITY_CLASSES: Printer = Printer {
    columns: &COLUMNS,
    row,
};

const COLUMNS: [Column; 5] = [
    NAME,
    Column::integer(
        "Value",
        "value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec.",
    ),
    Column::boolean(
        "Global-Default",
        "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class. Only one PriorityClass can be marked as `globalDefault`. However, if more than one PriorityClasses exists with their `globalDefault` field set to true, the smallest value of such global default PriorityClasses will be used as the default priority.",
    ),
    AGE,
    Column::string(
        "PreemptionPolicy",
        "preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset.",
    ),
];

/// The API defaults an unset preemption policy to this one.
const DEFAULT_PREEMPTION_POLICY: &str = "PreemptLowerPriority";

fn row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let class: PriorityClass = common::parse(object)?;
    let policy = class
        .preemption_policy
        .unwrap_or_else(|| DEFAULT_PREEMPTION_POLICY.to_owned());
    Some(vec![
        common::name(&class.metadata),
        class.value.into(),
        class.global_default.unwrap_or(false).into(),
        common::age(&class.metadata, now),
        policy.into(),
    ])
}
