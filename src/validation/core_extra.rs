//! ResourceQuotas, LimitRanges, PodTemplates and ReplicationControllers (core/v1), following
//! upstream's `pkg/apis/core/validation` (`ValidateResourceQuota*`, `ValidateLimitRange`,
//! `ValidatePodTemplate*` and `ValidateReplicationController*`).

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{
    LimitRange, LimitRangeItem, PodTemplate, PodTemplateSpec, ReplicationController,
    ReplicationControllerSpec, ResourceQuota, ResourceQuotaSpec, ScopeSelector,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as QuantityString;

use super::apps::restarts_always;
use super::field::{ErrorList, FieldError, Path};
use super::go::{self, Rendered};
use super::meta::{FIELD_IMMUTABLE, non_negative, object_meta, object_meta_revalidated};
use super::names::{NameRule, is_qualified_name};
use super::opt_slice;
use super::pod_spec::pod_template as pod_template_spec;
use super::quantity::Quantity;
use super::resources::{
    container_resource_name, is_overcommit_allowed, is_standard_resource, parse, quantity_value,
    resource_name,
};

const QUOTA_SCOPES: [&str; 6] = [
    "Terminating",
    "NotTerminating",
    "BestEffort",
    "NotBestEffort",
    "PriorityClass",
    "CrossNamespacePodAffinity",
];
/// Scopes that only make sense as present or absent, never with values.
const EXISTS_ONLY_SCOPES: [&str; 5] = [
    "BestEffort",
    "NotBestEffort",
    "Terminating",
    "NotTerminating",
    "CrossNamespacePodAffinity",
];
const CONFLICTING_SCOPES: [(&str, &str); 2] = [
    ("BestEffort", "NotBestEffort"),
    ("Terminating", "NotTerminating"),
];
/// What scopes about pods can limit: the pod count and their compute resources.
const POD_COMPUTE_RESOURCES: [&str; 6] = [
    "cpu",
    "memory",
    "limits.cpu",
    "limits.memory",
    "requests.cpu",
    "requests.memory",
];
const LIMIT_TYPES: [&str; 3] = ["Pod", "Container", "PersistentVolumeClaim"];
const NOT_QUOTA_RESOURCE: &str = "must be a standard resource for quota";
const EXISTS_ONLY_MSG: &str = "must be 'Exist' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity";
const NOT_FOR_POD_TYPE: &str = "may not be specified when `type` is 'Pod'";

/// Validates a ResourceQuota on create (`old` is `None`) or update: resource names a quota can
/// track, amounts that are non-negative (and whole for counted objects), and scopes that suit
/// the tracked resources and never change.
pub fn resource_quota(new: &ResourceQuota, old: Option<&ResourceQuota>) -> ErrorList {
    let default_spec = ResourceQuotaSpec::default();
    let spec = new.spec.as_ref().unwrap_or(&default_spec);
    let path = Path::new("spec");
    let mut errs = object_meta(
        &new.metadata,
        true,
        NameRule::DnsSubdomain,
        old.map(|o| &o.metadata),
    );
    errs.extend(quota_amounts(spec.hard.as_ref(), &path.child("hard")));
    errs.extend(quota_scopes(spec, &path));
    errs.extend(scope_selector(spec, &path));
    match old {
        // The status is the quota controller's; only a created quota's is checked here.
        None => {
            if let Some(status) = &new.status {
                let status_path = Path::new("status");
                errs.extend(quota_amounts(
                    status.hard.as_ref(),
                    &status_path.child("hard"),
                ));
                errs.extend(quota_amounts(
                    status.used.as_ref(),
                    &status_path.child("used"),
                ));
            }
        }
        Some(old) => {
            let old_spec = old.spec.as_ref().unwrap_or(&default_spec);
            if scope_set(spec) != scope_set(old_spec) {
                errs.push(FieldError::invalid(
                    &path.child("scopes"),
                    scopes_value(spec.scopes.as_deref()),
                    FIELD_IMMUTABLE,
                ));
            }
        }
    }
    errs
}

fn scope_set(spec: &ResourceQuotaSpec) -> BTreeSet<&str> {
    opt_slice(&spec.scopes).iter().map(String::as_str).collect()
}

fn scopes_value(scopes: Option<&[String]>) -> Rendered {
    go::slice(
        "core.ResourceQuotaScope",
        scopes.map(|s| s.iter().map(|scope| go::quote(scope))),
    )
}

fn quota_amounts(list: Option<&BTreeMap<String, QuantityString>>, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    for (name, value) in list.into_iter().flatten() {
        let value_path = path.key(name);
        errs.extend(quota_resource_name(name, &value_path));
        errs.extend(quantity_value(name, value, &value_path));
    }
    errs
}

/// A resource name, and one the quota system tracks unless it is fully qualified.
fn quota_resource_name(name: &str, path: &Path) -> ErrorList {
    let mut errs = resource_name(name, path);
    if !name.contains('/') && !is_quota_resource(name) {
        errs.push(FieldError::invalid(path, name, NOT_QUOTA_RESOURCE));
    }
    errs
}

/// The standard resources but raw `storage`, which quotas track as `requests.storage`.
fn is_quota_resource(name: &str) -> bool {
    name != "storage" && is_standard_resource(name)
}

/// Whether a scope can restrict the given tracked resource.
fn scope_applies(scope: &str, resource: &str) -> bool {
    match scope {
        "Terminating"
        | "NotTerminating"
        | "NotBestEffort"
        | "PriorityClass"
        | "CrossNamespacePodAffinity" => {
            resource == "pods" || POD_COMPUTE_RESOURCES.contains(&resource)
        }
        "BestEffort" => resource == "pods",
        _ => true,
    }
}

/// The tracked resources a scope cannot restrict, in name order.
fn unscoped_resources<'a>(spec: &'a ResourceQuotaSpec, scope: &str) -> Vec<&'a str> {
    spec.hard
        .iter()
        .flat_map(|hard| hard.keys())
        .map(String::as_str)
        .filter(|name| is_quota_resource(name) && !scope_applies(scope, name))
        .collect()
}

fn conflicting_scopes(scopes: &BTreeSet<&str>) -> usize {
    CONFLICTING_SCOPES
        .iter()
        .filter(|(a, b)| scopes.contains(a) && scopes.contains(b))
        .count()
}

/// Known scopes that suit every tracked resource and do not contradict each other; upstream
/// shows the whole scope list with each problem.
fn quota_scopes(spec: &ResourceQuotaSpec, path: &Path) -> ErrorList {
    let scopes = opt_slice(&spec.scopes);
    if scopes.is_empty() {
        return ErrorList::new();
    }
    let scopes_path = path.child("scopes");
    let invalid = |detail: &str| {
        FieldError::invalid(&scopes_path, scopes_value(spec.scopes.as_deref()), detail)
    };
    let mut errs = ErrorList::new();
    for scope in scopes {
        if !QUOTA_SCOPES.contains(&scope.as_str()) {
            errs.push(invalid("unsupported scope"));
        }
        for _ in unscoped_resources(spec, scope) {
            errs.push(invalid("unsupported scope applied to resource"));
        }
    }
    for _ in 0..conflicting_scopes(&scope_set(spec)) {
        errs.push(invalid("conflicting scopes"));
    }
    errs
}

/// The scope selector's requirements; upstream reports them without an index.
fn scope_selector(spec: &ResourceQuotaSpec, path: &Path) -> ErrorList {
    let Some(selector) = &spec.scope_selector else {
        return ErrorList::new();
    };
    let expressions_path = path.child("scopeSelector").child("matchExpressions");
    let mut errs = ErrorList::new();
    let mut scopes = BTreeSet::new();
    for requirement in opt_slice(&selector.match_expressions) {
        let scope = requirement.scope_name.as_str();
        let operator = requirement.operator.as_str();
        let operator_path = expressions_path.child("operator");
        if !QUOTA_SCOPES.contains(&scope) {
            errs.push(FieldError::invalid(
                &expressions_path.child("scopeName"),
                scope,
                "unsupported scope",
            ));
        }
        for _ in unscoped_resources(spec, scope) {
            errs.push(FieldError::invalid(
                &expressions_path,
                scope_selector_value(selector),
                "unsupported scope applied to resource",
            ));
        }
        if EXISTS_ONLY_SCOPES.contains(&scope) && operator != "Exists" {
            errs.push(FieldError::invalid(
                &operator_path,
                operator,
                EXISTS_ONLY_MSG,
            ));
        }
        let values = opt_slice(&requirement.values);
        let values_path = expressions_path.child("values");
        match operator {
            "In" | "NotIn" if values.is_empty() => errs.push(FieldError::required(
                &values_path,
                "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector",
            )),
            "Exists" | "DoesNotExist" if !values.is_empty() => errs.push(FieldError::invalid(
                &values_path,
                go::strings(Some(values)),
                "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector",
            )),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => errs.push(FieldError::invalid(
                &operator_path,
                other,
                "not a valid selector operator",
            )),
        }
        scopes.insert(scope);
    }
    // Upstream shows the `scopes` list here, not the selector.
    for _ in 0..conflicting_scopes(&scopes) {
        errs.push(FieldError::invalid(
            &expressions_path,
            scopes_value(spec.scopes.as_deref()),
            "conflicting scopes",
        ));
    }
    errs
}

/// `%#v` of a `core.ScopeSelector`.
fn scope_selector_value(selector: &ScopeSelector) -> Rendered {
    let requirements = selector.match_expressions.as_ref().map(|requirements| {
        requirements.iter().map(|r| {
            format!(
                "core.ScopedResourceSelectorRequirement{{ScopeName:{}, Operator:{}, Values:{}}}",
                go::quote(&r.scope_name),
                go::quote(&r.operator),
                go::strings(r.values.as_deref()).0
            )
        })
    });
    Rendered(format!(
        "core.ScopeSelector{{MatchExpressions:{}}}",
        go::slice("core.ScopedResourceSelectorRequirement", requirements).0
    ))
}

/// Validates a LimitRange on create (`old` is `None`) or update (checked as a create, as
/// upstream does): one item per limit type, resource names that suit the type, and bounds,
/// defaults and ratios that are consistent with each other.
///
/// As upstream, amounts are not checked for sign; the ratio is not checked against max/min.
pub fn limit_range(new: &LimitRange, old: Option<&LimitRange>) -> ErrorList {
    let mut errs = object_meta_revalidated(
        &new.metadata,
        true,
        NameRule::DnsSubdomain,
        old.map(|o| &o.metadata),
    );
    let limits = new
        .spec
        .as_ref()
        .map(|s| s.limits.as_slice())
        .unwrap_or_default();
    let path = Path::new("spec").child("limits");
    let mut types = BTreeSet::new();
    for (i, item) in limits.iter().enumerate() {
        let item_path = path.index(i);
        let type_path = item_path.child("type");
        errs.extend(limit_type(&item.type_, &type_path));
        if !types.insert(item.type_.as_str()) {
            errs.push(FieldError::duplicate(&type_path, &item.type_));
        }
        errs.extend(limit_item(item, &item_path));
    }
    errs
}

/// `Pod`, `Container`, `PersistentVolumeClaim`, or a qualified name with a domain.
fn limit_type(kind: &str, path: &Path) -> ErrorList {
    let errs: ErrorList = is_qualified_name(kind)
        .into_iter()
        .map(|m| FieldError::invalid(path, kind, m))
        .collect();
    if errs.is_empty() && !kind.contains('/') && !LIMIT_TYPES.contains(&kind) {
        return vec![FieldError::invalid(
            path,
            kind,
            "must be a standard limit type or fully qualified",
        )];
    }
    errs
}

/// A quantity read from a limit, with the text it was given as.
#[derive(Clone, Copy)]
struct Amount<'a> {
    quantity: Quantity,
    text: &'a str,
}

impl Amount<'_> {
    /// Upstream prints the quantity itself (by its `String` method), unquoted.
    fn value(&self) -> Rendered {
        Rendered(self.text.to_string())
    }
}

/// Checks the resource names of one of an item's lists and reads its amounts.
fn limit_amounts<'a>(
    kind: &str,
    list: Option<&'a BTreeMap<String, QuantityString>>,
    path: &Path,
    errs: &mut ErrorList,
) -> BTreeMap<&'a str, Amount<'a>> {
    let mut amounts = BTreeMap::new();
    for (name, value) in list.into_iter().flatten() {
        let value_path = path.key(name);
        errs.extend(if matches!(kind, "Pod" | "Container") {
            container_resource_name(name, &value_path)
        } else {
            resource_name(name, &value_path)
        });
        match parse(value, &value_path) {
            Ok(quantity) => {
                amounts.insert(
                    name.as_str(),
                    Amount {
                        quantity,
                        text: &value.0,
                    },
                );
            }
            Err(err) => errs.push(err),
        }
    }
    amounts
}

fn limit_item(item: &LimitRangeItem, path: &Path) -> ErrorList {
    let kind = item.type_.as_str();
    let mut errs = ErrorList::new();
    let max = limit_amounts(kind, item.max.as_ref(), &path.child("max"), &mut errs);
    let min = limit_amounts(kind, item.min.as_ref(), &path.child("min"), &mut errs);
    let (defaults, requests) = if kind == "Pod" {
        for (field, list) in [
            ("default", &item.default),
            ("defaultRequest", &item.default_request),
        ] {
            if list.as_ref().is_some_and(|l| !l.is_empty()) {
                errs.push(FieldError::forbidden(&path.child(field), NOT_FOR_POD_TYPE));
            }
        }
        (BTreeMap::new(), BTreeMap::new())
    } else {
        let defaults = limit_amounts(
            kind,
            item.default.as_ref(),
            &path.child("default"),
            &mut errs,
        );
        let requests = limit_amounts(
            kind,
            item.default_request.as_ref(),
            &path.child("defaultRequest"),
            &mut errs,
        );
        (defaults, requests)
    };
    if kind == "PersistentVolumeClaim" {
        let bounded = [&item.min, &item.max]
            .iter()
            .any(|list| list.as_ref().is_some_and(|l| l.contains_key("storage")));
        if !bounded {
            errs.push(FieldError::required(
                &path.child("limits"),
                "either minimum or maximum storage value is required, but neither was provided",
            ));
        }
    }
    let ratios = limit_amounts(
        kind,
        item.max_limit_request_ratio.as_ref(),
        &path.child("maxLimitRequestRatio"),
        &mut errs,
    );
    let names: BTreeSet<&str> = [&max, &min, &defaults, &requests, &ratios]
        .iter()
        .flat_map(|amounts| amounts.keys().copied())
        .collect();
    for name in names {
        let bounds = Bounds {
            min: min.get(name).copied(),
            max: max.get(name).copied(),
            default: defaults.get(name).copied(),
            request: requests.get(name).copied(),
            ratio: ratios.get(name).copied(),
        };
        errs.extend(bounds.check(name, path));
    }
    errs
}

/// One resource's amounts across the lists of a limit item.
struct Bounds<'a> {
    min: Option<Amount<'a>>,
    max: Option<Amount<'a>>,
    default: Option<Amount<'a>>,
    request: Option<Amount<'a>>,
    ratio: Option<Amount<'a>>,
}

impl Bounds<'_> {
    /// min <= default request <= default <= max, a ratio of at least one, and a request equal
    /// to the default for resources that cannot be overcommitted.
    fn check(&self, name: &str, path: &Path) -> ErrorList {
        let mut errs = ErrorList::new();
        let at = |field: &str| path.child(field).key(name);
        // Each pair that must be in order: the lower and the higher amount with the names
        // upstream's messages give them, the field the error is reported at, and whether it
        // shows the lower amount (else the higher).
        let ordered = [
            (self.min, "min value", self.max, "max value", "min", true),
            (
                self.min,
                "min value",
                self.request,
                "default request value",
                "defaultRequest",
                false,
            ),
            (
                self.request,
                "default request value",
                self.max,
                "max value",
                "defaultRequest",
                true,
            ),
            (
                self.request,
                "default request value",
                self.default,
                "default limit value",
                "defaultRequest",
                true,
            ),
            (
                self.min,
                "min value",
                self.default,
                "default value",
                "default",
                true,
            ),
            (
                self.default,
                "default value",
                self.max,
                "max value",
                "default",
                false,
            ),
        ];
        for (low, low_name, high, high_name, field, shows_low) in ordered {
            let (Some(low), Some(high)) = (low, high) else {
                continue;
            };
            if low.quantity > high.quantity {
                let shown = if shows_low { low } else { high };
                errs.push(FieldError::invalid(
                    &at(field),
                    shown.value(),
                    format!(
                        "{low_name} {} is greater than {high_name} {}",
                        low.text, high.text
                    ),
                ));
            }
        }
        let below_one =
            |ratio: &Amount| Quantity::parse("1").is_some_and(|one| ratio.quantity < one);
        if let Some(ratio) = self.ratio.filter(below_one) {
            errs.push(FieldError::invalid(
                &at("maxLimitRequestRatio"),
                ratio.value(),
                format!("ratio {} is less than 1", ratio.text),
            ));
        }
        if let (Some(default), Some(request)) = (self.default, self.request)
            && !is_overcommit_allowed(name)
            && default.quantity != request.quantity
        {
            errs.push(FieldError::invalid(
                &at("defaultRequest"),
                request.value(),
                format!(
                    "default value {} must equal to defaultRequest value {} in {name}",
                    default.text, request.text
                ),
            ));
        }
        errs
    }
}

/// Validates a PodTemplate on create (`old` is `None`) or update: its metadata and its
/// template, as any pod template is checked.
pub fn pod_template(new: &PodTemplate, old: Option<&PodTemplate>) -> ErrorList {
    let default_template = PodTemplateSpec::default();
    let mut errs = object_meta(
        &new.metadata,
        true,
        NameRule::DnsSubdomain,
        old.map(|o| &o.metadata),
    );
    errs.extend(pod_template_spec(
        new.template.as_ref().unwrap_or(&default_template),
        &Path::new("template"),
    ));
    errs
}

/// Validates a ReplicationController on create (`old` is `None`) or update. Unlike a
/// ReplicaSet's, its selector is a plain label map, and it may change.
pub fn replication_controller(
    new: &ReplicationController,
    old: Option<&ReplicationController>,
) -> ErrorList {
    let default_spec = ReplicationControllerSpec::default();
    let spec = new.spec.as_ref().unwrap_or(&default_spec);
    let path = Path::new("spec");
    let mut errs = object_meta(
        &new.metadata,
        true,
        NameRule::DnsSubdomain,
        old.map(|o| &o.metadata),
    );
    errs.extend(non_negative(
        i64::from(spec.min_ready_seconds.unwrap_or(0)),
        &path.child("minReadySeconds"),
    ));
    let selector = spec.selector.as_ref().filter(|s| !s.is_empty());
    if selector.is_none() {
        errs.push(FieldError::required(&path.child("selector"), ""));
    }
    errs.extend(non_negative(
        i64::from(spec.replicas.unwrap_or(0)),
        &path.child("replicas"),
    ));
    let template_path = path.child("template");
    match &spec.template {
        None => errs.push(FieldError::required(&template_path, "")),
        Some(template) => errs.extend(controller_template(template, selector, &template_path)),
    }
    errs
}

/// A template the selector selects, whose pods restart and run without a deadline.
fn controller_template(
    template: &PodTemplateSpec,
    selector: Option<&BTreeMap<String, String>>,
    path: &Path,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let labels = template.metadata.as_ref().and_then(|m| m.labels.as_ref());
    let selected = |selector: &BTreeMap<String, String>| {
        selector
            .iter()
            .all(|(key, value)| labels.and_then(|l| l.get(key)) == Some(value))
    };
    if selector.is_some_and(|s| !selected(s)) {
        errs.push(FieldError::invalid(
            &path.child("metadata").child("labels"),
            go::string_map(labels),
            super::apps::SELECTOR_MISMATCH,
        ));
    }
    errs.extend(pod_template_spec(template, path));
    errs.extend(restarts_always(template, path, "ReplicationController"));
    errs
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{
        app_labels, messages, namespaced_meta, stored, valid_spec, valid_template,
    };
    use super::*;
    use serde_json::json;

    fn quota(spec: serde_json::Value) -> ResourceQuota {
        ResourceQuota {
            metadata: namespaced_meta("compute"),
            spec: Some(serde_json::from_value(spec).expect("quota spec")),
            status: None,
        }
    }

    #[test]
    fn a_scoped_quota_is_valid() {
        let q = quota(json!({
            "hard": {"pods": "10", "requests.cpu": "1", "requests.memory": "1Gi", "count/deployments.apps": "5"},
            "scopes": ["NotTerminating"],
        }));
        assert!(resource_quota(&q, None).is_empty());
    }

    #[test]
    fn quota_names_and_amounts() {
        let q = quota(json!({
            "hard": {"pods": "1.5", "cpu": "-1", "storage": "10Gi", "gpu": "1"},
        }));
        assert_eq!(
            messages(&resource_quota(&q, None)),
            vec![
                "spec.hard[cpu]: Invalid value: \"-1\": must be greater than or equal to 0",
                "spec.hard[gpu]: Invalid value: \"gpu\": must be a standard resource type or fully qualified",
                "spec.hard[gpu]: Invalid value: \"gpu\": must be a standard resource for quota",
                "spec.hard[pods]: Invalid value: \"1.5\": must be an integer",
                "spec.hard[storage]: Invalid value: \"storage\": must be a standard resource for quota",
            ]
        );
    }

    #[test]
    fn quota_scopes_suit_their_resources() {
        let q = quota(json!({
            "hard": {"cpu": "1", "pods": "2"},
            "scopes": ["BestEffort", "NotBestEffort", "Daily"],
        }));
        let scopes = "[]core.ResourceQuotaScope{\"BestEffort\", \"NotBestEffort\", \"Daily\"}";
        assert_eq!(
            messages(&resource_quota(&q, None)),
            vec![
                format!(
                    "spec.scopes: Invalid value: {scopes}: unsupported scope applied to resource"
                ),
                format!("spec.scopes: Invalid value: {scopes}: unsupported scope"),
                format!("spec.scopes: Invalid value: {scopes}: conflicting scopes"),
            ]
        );
    }

    #[test]
    fn scope_selectors() {
        let q = quota(json!({
            "hard": {"pods": "5"},
            "scopeSelector": {"matchExpressions": [
                {"scopeName": "PriorityClass", "operator": "In", "values": []},
                {"scopeName": "Terminating", "operator": "In", "values": ["x"]},
            ]},
        }));
        assert_eq!(
            messages(&resource_quota(&q, None)),
            vec![
                "spec.scopeSelector.matchExpressions.values: Required value: must be at least one value when `operator` is 'In' or 'NotIn' for scope selector".to_string(),
                format!("spec.scopeSelector.matchExpressions.operator: Invalid value: \"In\": {EXISTS_ONLY_MSG}"),
            ]
        );
        let best_effort_cpu = quota(json!({
            "hard": {"cpu": "1"},
            "scopeSelector": {"matchExpressions": [{"scopeName": "BestEffort", "operator": "Exists"}]},
        }));
        assert_eq!(
            messages(&resource_quota(&best_effort_cpu, None)),
            vec![
                "spec.scopeSelector.matchExpressions: Invalid value: core.ScopeSelector{MatchExpressions:[]core.ScopedResourceSelectorRequirement{core.ScopedResourceSelectorRequirement{ScopeName:\"BestEffort\", Operator:\"Exists\", Values:[]string(nil)}}}: unsupported scope applied to resource"
            ]
        );
    }

    #[test]
    fn quota_scopes_are_immutable() {
        let old = ResourceQuota {
            metadata: stored(namespaced_meta("compute")),
            ..quota(json!({"hard": {"pods": "5"}, "scopes": ["Terminating"]}))
        };
        let new = ResourceQuota {
            metadata: old.metadata.clone(),
            ..quota(json!({"hard": {"pods": "6"}, "scopes": ["NotTerminating"]}))
        };
        assert_eq!(
            messages(&resource_quota(&new, Some(&old))),
            vec![
                "spec.scopes: Invalid value: []core.ResourceQuotaScope{\"NotTerminating\"}: field is immutable"
            ]
        );
    }

    fn limits(items: serde_json::Value) -> LimitRange {
        LimitRange {
            metadata: namespaced_meta("limits"),
            spec: Some(serde_json::from_value(json!({ "limits": items })).expect("limits")),
        }
    }

    #[test]
    fn consistent_container_limits_are_valid() {
        let range = limits(json!([{
            "type": "Container",
            "default": {"cpu": "500m", "memory": "512Mi"},
            "defaultRequest": {"cpu": "250m", "memory": "256Mi"},
            "max": {"cpu": "2"},
            "min": {"cpu": "100m"},
            "maxLimitRequestRatio": {"cpu": "4"},
        }]));
        assert!(limit_range(&range, None).is_empty());
    }

    #[test]
    fn limit_types_bounds_and_ratios() {
        let range = limits(json!([
            {"type": "Node", "max": {"cpu": "1"}},
            {"type": "Container", "min": {"cpu": "2"}, "max": {"cpu": "1"}, "maxLimitRequestRatio": {"cpu": "500m"}},
            {"type": "Pod", "default": {"cpu": "1"}},
            {"type": "PersistentVolumeClaim", "max": {"cpu": "1"}},
            {"type": "Container", "default": {"example.com/gpu": "2"}, "defaultRequest": {"example.com/gpu": "1"}},
        ]));
        assert_eq!(
            messages(&limit_range(&range, None)),
            vec![
                "spec.limits[0].type: Invalid value: \"Node\": must be a standard limit type or fully qualified",
                "spec.limits[1].min[cpu]: Invalid value: 2: min value 2 is greater than max value 1",
                "spec.limits[1].maxLimitRequestRatio[cpu]: Invalid value: 500m: ratio 500m is less than 1",
                "spec.limits[2].default: Forbidden: may not be specified when `type` is 'Pod'",
                "spec.limits[3].limits: Required value: either minimum or maximum storage value is required, but neither was provided",
                "spec.limits[4].type: Duplicate value: \"Container\"",
                "spec.limits[4].defaultRequest[example.com/gpu]: Invalid value: 1: default value 2 must equal to defaultRequest value 1 in example.com/gpu",
            ]
        );
    }

    #[test]
    fn pod_templates_check_their_template() {
        let template = PodTemplate {
            metadata: namespaced_meta("web"),
            template: Some(valid_template()),
        };
        assert!(pod_template(&template, None).is_empty());
        let empty = PodTemplate {
            template: Some(PodTemplateSpec {
                metadata: None,
                spec: Some(k8s_openapi::api::core::v1::PodSpec {
                    containers: Vec::new(),
                    ..valid_spec()
                }),
            }),
            ..template
        };
        assert_eq!(
            messages(&pod_template(&empty, None)),
            vec!["template.spec.containers: Required value"]
        );
    }

    fn controller(
        selector: Option<BTreeMap<String, String>>,
        template: Option<PodTemplateSpec>,
        replicas: i32,
    ) -> ReplicationController {
        ReplicationController {
            metadata: namespaced_meta("web"),
            spec: Some(ReplicationControllerSpec {
                replicas: Some(replicas),
                selector,
                template,
                min_ready_seconds: None,
            }),
            status: None,
        }
    }

    #[test]
    fn controllers_select_their_template() {
        assert!(
            replication_controller(
                &controller(Some(app_labels()), Some(valid_template()), 2),
                None
            )
            .is_empty()
        );
        let other = BTreeMap::from([("app".to_string(), "other".to_string())]);
        let mut template = valid_template();
        template.spec.as_mut().expect("spec").restart_policy = Some("Never".into());
        assert_eq!(
            messages(&replication_controller(
                &controller(Some(other), Some(template), 2),
                None
            )),
            vec![
                "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`",
                "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"",
            ]
        );
        assert_eq!(
            messages(&replication_controller(&controller(None, None, -1), None)),
            vec![
                "spec.selector: Required value",
                "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
                "spec.template: Required value",
            ]
        );
    }
}
