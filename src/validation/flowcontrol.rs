//! API Priority and Fairness' kinds (upstream's `pkg/apis/flowcontrol/validation`, the rules
//! that shape the objects): a FlowSchema names a priority level and a precedence, a
//! PriorityLevelConfiguration is Exempt or Limited with the matching settings.

use k8s_openapi::api::flowcontrol::v1::{FlowSchema, PriorityLevelConfiguration};

use super::field::{ErrorList, FieldError, Path};
use super::meta::object_meta;
use super::names::{NameRule, inclusive_range_error};

const PRECEDENCE_MAX: i32 = 10000;
const LEVEL_TYPES: [&str; 2] = ["Exempt", "Limited"];

/// Validates a FlowSchema on create (`old` is `None`) or update.
pub fn flow_schema(new: &FlowSchema, old: Option<&FlowSchema>) -> ErrorList {
    let mut errs = object_meta(
        &new.metadata,
        false,
        NameRule::PathSegment,
        old.map(|o| &o.metadata),
    );
    let path = Path::new("spec");
    let Some(spec) = &new.spec else {
        errs.push(FieldError::required(&path, ""));
        return errs;
    };
    if let Some(precedence) = spec
        .matching_precedence
        .filter(|p| !(1..=PRECEDENCE_MAX).contains(p))
    {
        errs.push(FieldError::invalid(
            &path.child("matchingPrecedence"),
            precedence,
            inclusive_range_error(1, i64::from(PRECEDENCE_MAX)),
        ));
    }
    if spec.priority_level_configuration.name.is_empty() {
        errs.push(FieldError::required(
            &path.child("priorityLevelConfiguration").child("name"),
            "must reference a priority level",
        ));
    }
    errs
}

/// Validates a PriorityLevelConfiguration on create (`old` is `None`) or update.
pub fn priority_level_configuration(
    new: &PriorityLevelConfiguration,
    old: Option<&PriorityLevelConfiguration>,
) -> ErrorList {
    let mut errs = object_meta(
        &new.metadata,
        false,
        NameRule::PathSegment,
        old.map(|o| &o.metadata),
    );
    let path = Path::new("spec");
    let Some(spec) = &new.spec else {
        errs.push(FieldError::required(&path, ""));
        return errs;
    };
    match spec.type_.as_str() {
        "Limited" if spec.limited.is_none() => errs.push(FieldError::required(
            &path.child("limited"),
            "must not be empty when type is Limited",
        )),
        "Exempt" if spec.limited.is_some() => errs.push(FieldError::forbidden(
            &path.child("limited"),
            "must be nil if the type is not Limited",
        )),
        "Limited" | "Exempt" => {}
        other => errs.push(FieldError::not_supported(
            &path.child("type"),
            other,
            &LEVEL_TYPES,
        )),
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::messages;
    use super::*;
    use k8s_openapi::api::flowcontrol::v1::{
        FlowSchemaSpec, PriorityLevelConfigurationReference, PriorityLevelConfigurationSpec,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn meta() -> ObjectMeta {
        ObjectMeta {
            name: Some("catch-all".into()),
            ..Default::default()
        }
    }

    #[test]
    fn schemas_need_a_level_and_a_precedence_in_range() {
        let schema = |precedence, level: &str| FlowSchema {
            metadata: meta(),
            spec: Some(FlowSchemaSpec {
                matching_precedence: Some(precedence),
                priority_level_configuration: PriorityLevelConfigurationReference {
                    name: level.into(),
                },
                ..Default::default()
            }),
            status: None,
        };
        assert!(flow_schema(&schema(10000, "catch-all"), None).is_empty());
        assert_eq!(
            messages(&flow_schema(&schema(0, ""), None)),
            vec![
                "spec.matchingPrecedence: Invalid value: 0: must be between 1 and 10000, inclusive",
                "spec.priorityLevelConfiguration.name: Required value: must reference a priority level",
            ]
        );
    }

    #[test]
    fn levels_are_exempt_or_limited() {
        let level = |type_: &str| PriorityLevelConfiguration {
            metadata: meta(),
            spec: Some(PriorityLevelConfigurationSpec {
                type_: type_.into(),
                ..Default::default()
            }),
            status: None,
        };
        assert!(priority_level_configuration(&level("Exempt"), None).is_empty());
        assert_eq!(
            messages(&priority_level_configuration(&level("Limited"), None)),
            vec!["spec.limited: Required value: must not be empty when type is Limited"]
        );
        assert_eq!(
            messages(&priority_level_configuration(&level("Other"), None)),
            vec![
                "spec.type: Unsupported value: \"Other\": supported values: \"Exempt\", \"Limited\""
            ]
        );
    }
}
