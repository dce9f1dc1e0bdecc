//! Tables of admissionregistration.k8s.io: validating and mutating webhook configurations, with
//! how many webhooks each registers; validating admission policies, with how many validations
//! each makes and of what kind its params are; and their bindings, with the policy and params
//! each binds.

use jiff::Timestamp;
use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
    ValidatingWebhookConfiguration,
};
use serde_json::Value;

use super::common::{self, AGE, NAME};
use super::labels::format_selector;
use super::{Column, Printer};

pub(super) static VALIDATING_WEBHOOK_CONFIGURATIONS: Printer = Printer {
    columns: &COLUMNS,
    row: validating_row,
};
pub(super) static MUTATING_WEBHOOK_CONFIGURATIONS: Printer = Printer {
    columns: &COLUMNS,
    row: mutating_row,
};

pub(super) static VALIDATING_ADMISSION_POLICIES: Printer = Printer {
    columns: &POLICY_COLUMNS,
    row: policy_row,
};
pub(super) static VALIDATING_ADMISSION_POLICY_BINDINGS: Printer = Printer {
    columns: &BINDING_COLUMNS,
    row: binding_row,
};

/// What a field of either kind prints when it is not set.
const UNSET: &str = "<unset>";

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

const POLICY_COLUMNS: [Column; 4] = [
    NAME,
    Column::integer(
        "Validations",
        "Validations indicates the number of validation rules defined in this configuration",
    ),
    Column::string(
        "ParamKind",
        "ParamKind specifies the kind of resources used to parameterize this policy",
    ),
    AGE,
];

// Upstream's descriptions, spelling included.
const BINDING_COLUMNS: [Column; 4] = [
    NAME,
    Column::string(
        "PolicyName",
        "PolicyName indicates the policy definition which the policy binding binded to",
    ),
    Column::string(
        "ParamRef",
        "ParamRef indicates the param resource which sets the configration param",
    ),
    AGE,
];

fn policy_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let policy: ValidatingAdmissionPolicy = common::parse(object)?;
    let spec = policy.spec.unwrap_or_default();
    let param_kind = spec.param_kind.map_or_else(
        || UNSET.to_owned(),
        |kind| {
            format!(
                "{}/{}",
                kind.api_version.unwrap_or_default(),
                kind.kind.unwrap_or_default()
            )
        },
    );
    Some(vec![
        common::name(&policy.metadata),
        spec.validations.as_ref().map_or(0, Vec::len).into(),
        param_kind.into(),
        common::age(&policy.metadata, now),
    ])
}

/// The params are `<namespace>/<name>`, or `*/<name>` without a namespace since the params may
/// be cluster-scoped; a selector prints as label selectors do (upstream prints Go's struct).
fn binding_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let binding: ValidatingAdmissionPolicyBinding = common::parse(object)?;
    let spec = binding.spec.unwrap_or_default();
    let params = match spec.param_ref {
        None => UNSET.to_owned(),
        Some(reference) => match (
            reference.name.filter(|n| !n.is_empty()),
            reference.namespace,
        ) {
            (Some(name), Some(namespace)) if !namespace.is_empty() => format!("{namespace}/{name}"),
            (Some(name), _) => format!("*/{name}"),
            (None, _) if reference.selector.is_some() => {
                format_selector(reference.selector.as_ref())
            }
            (None, _) => UNSET.to_owned(),
        },
    };
    Some(vec![
        common::name(&binding.metadata),
        spec.policy_name.unwrap_or_default().into(),
        params.into(),
        common::age(&binding.metadata, now),
    ])
}
