//! Object metadata, labels, annotations and label selectors: apimachinery's `ValidateObjectMeta`,
//! `ValidateObjectMetaUpdate`, `ValidateLabels` and `ValidateLabelSelector`, plus the finalizer
//! rule that the core API group adds.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, ObjectMeta, OwnerReference, Time,
};

use super::field::{ErrorList, FieldError, Path};
use super::go::{self, GoValue, Rendered};
use super::names::{NameRule, is_qualified_name, is_valid_label_value};
use super::text;

pub const FIELD_IMMUTABLE: &str = "field is immutable";
pub const IS_NEGATIVE: &str = "must be greater than or equal to 0";
const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;
const STANDARD_FINALIZERS: [&str; 3] = ["kubernetes", "orphan", "foregroundDeletion"];

/// Validates `metadata` on create (`old` is `None`) or on update (`old` is the stored metadata).
///
/// On update the name rule is not re-applied, as upstream; the caller must have copied the
/// stored `resourceVersion` into an unconditional update before calling.
pub fn object_meta(
    meta: &ObjectMeta,
    namespaced: bool,
    name_rule: NameRule,
    old: Option<&ObjectMeta>,
) -> ErrorList {
    let path = Path::new("metadata");
    let mut errs = match old {
        None => create_meta(meta, namespaced, name_rule, &path),
        Some(old) => update_meta(meta, old, &path),
    };
    errs.extend(kube_finalizer_names(
        meta.finalizers.as_deref().unwrap_or_default(),
        &path.child("finalizers"),
    ));
    errs
}

/// For kinds whose update validation repeats their create validation: on update the update
/// checks, then (always) the create checks.
pub fn object_meta_revalidated(
    meta: &ObjectMeta,
    namespaced: bool,
    name_rule: NameRule,
    old: Option<&ObjectMeta>,
) -> ErrorList {
    let mut errs = old
        .map(|old| object_meta(meta, namespaced, name_rule, Some(old)))
        .unwrap_or_default();
    errs.extend(object_meta(meta, namespaced, name_rule, None));
    errs
}

/// The metadata checks of a write in the order kube-apiserver reports them: those of a create
/// and, on update, those of an update after them (the registry runs both on every update,
/// before the kind's own rules).
pub fn object_meta_of_write(
    meta: &ObjectMeta,
    namespaced: bool,
    name_rule: NameRule,
    old: Option<&ObjectMeta>,
) -> ErrorList {
    let mut errs = object_meta(meta, namespaced, name_rule, None);
    if let Some(old) = old {
        errs.extend(object_meta(meta, namespaced, name_rule, Some(old)));
    }
    errs
}

fn create_meta(meta: &ObjectMeta, namespaced: bool, name_rule: NameRule, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let generate_name = text(&meta.generate_name);
    if !generate_name.is_empty() {
        let field = path.child("generateName");
        errs.extend(
            name_rule
                .check(generate_name, true)
                .into_iter()
                .map(|m| FieldError::invalid(&field, generate_name, m)),
        );
    }
    let name = text(&meta.name);
    if name.is_empty() {
        errs.push(FieldError::required(
            &path.child("name"),
            "name or generateName is required",
        ));
    } else {
        let field = path.child("name");
        errs.extend(
            name_rule
                .check(name, false)
                .into_iter()
                .map(|m| FieldError::invalid(&field, name, m)),
        );
    }
    errs.extend(namespace_field(
        text(&meta.namespace),
        namespaced,
        &path.child("namespace"),
    ));
    errs.extend(non_negative(
        meta.generation.unwrap_or(0),
        &path.child("generation"),
    ));
    errs.extend(common_meta(meta, path));
    errs.extend(finalizers(
        meta.finalizers.as_deref().unwrap_or_default(),
        &path.child("finalizers"),
    ));
    errs
}

fn namespace_field(namespace: &str, namespaced: bool, path: &Path) -> ErrorList {
    match (namespaced, namespace.is_empty()) {
        (true, true) => vec![FieldError::required(path, "")],
        (true, false) => NameRule::DnsLabel
            .check(namespace, false)
            .into_iter()
            .map(|m| FieldError::invalid(path, namespace, m))
            .collect(),
        (false, false) => vec![FieldError::forbidden(path, "not allowed on this type")],
        (false, true) => ErrorList::new(),
    }
}

/// The checks that create and update share.
fn common_meta(meta: &ObjectMeta, path: &Path) -> ErrorList {
    let mut errs = labels(meta.labels.as_ref(), &path.child("labels"));
    errs.extend(annotations(
        meta.annotations.as_ref(),
        &path.child("annotations"),
    ));
    errs.extend(owner_references(
        meta.owner_references.as_deref().unwrap_or_default(),
        &path.child("ownerReferences"),
    ));
    errs
}

fn update_meta(new: &ObjectMeta, old: &ObjectMeta, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if old.deletion_timestamp.is_some() {
        errs.extend(no_new_finalizers(new, old, &path.child("finalizers")));
    }
    if text(&new.resource_version).is_empty() {
        errs.push(FieldError::invalid(
            &path.child("resourceVersion"),
            "",
            "must be specified for an update",
        ));
    }
    let generation = new.generation.unwrap_or(0);
    if generation < old.generation.unwrap_or(0) {
        errs.push(FieldError::invalid(
            &path.child("generation"),
            generation,
            "must not be decremented",
        ));
    }
    errs.extend(immutable(
        text(&new.name),
        text(&old.name),
        &path.child("name"),
    ));
    errs.extend(immutable(
        text(&new.namespace),
        text(&old.namespace),
        &path.child("namespace"),
    ));
    errs.extend(immutable(
        text(&new.uid),
        text(&old.uid),
        &path.child("uid"),
    ));
    errs.extend(immutable_time(
        new.creation_timestamp.as_ref(),
        old.creation_timestamp.as_ref(),
        &path.child("creationTimestamp"),
    ));
    errs.extend(immutable_time(
        new.deletion_timestamp.as_ref(),
        old.deletion_timestamp.as_ref(),
        &path.child("deletionTimestamp"),
    ));
    errs.extend(immutable(
        new.deletion_grace_period_seconds,
        old.deletion_grace_period_seconds,
        &path.child("deletionGracePeriodSeconds"),
    ));
    errs.extend(common_meta(new, path));
    errs
}

fn no_new_finalizers(new: &ObjectMeta, old: &ObjectMeta, path: &Path) -> Option<FieldError> {
    let old: BTreeSet<&String> = old.finalizers.iter().flatten().collect();
    let added: Vec<String> = new
        .finalizers
        .iter()
        .flatten()
        .filter(|f| !old.contains(f))
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    (!added.is_empty()).then(|| {
        FieldError::forbidden(
            path,
            format!(
                "no new finalizers can be added if the object is being deleted, found new finalizers {}",
                go::strings(Some(&added)).0
            ),
        )
    })
}

/// Upstream's `ValidateImmutableField`: an unchanged value passes.
pub fn immutable<T: PartialEq + GoValue>(new: T, old: T, path: &Path) -> Option<FieldError> {
    (new != old).then(|| FieldError::invalid(path, new, FIELD_IMMUTABLE))
}

fn immutable_time(new: Option<&Time>, old: Option<&Time>, path: &Path) -> Option<FieldError> {
    immutable(new.map(go::time), old.map(go::time), path)
}

pub fn non_negative(value: i64, path: &Path) -> Option<FieldError> {
    (value < 0).then(|| FieldError::invalid(path, value, IS_NEGATIVE))
}

/// Label keys must be qualified names and values valid label values; errors name the map, not
/// the key, as upstream.
pub fn labels(labels: Option<&BTreeMap<String, String>>, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    for (key, value) in labels.into_iter().flatten() {
        errs.extend(label_key(key, path));
        errs.extend(
            is_valid_label_value(value)
                .into_iter()
                .map(|m| FieldError::invalid(path, value, m)),
        );
    }
    errs
}

pub fn label_key(key: &str, path: &Path) -> ErrorList {
    is_qualified_name(key)
        .into_iter()
        .map(|m| FieldError::invalid(path, key, m))
        .collect()
}

/// Annotation keys must be qualified names (compared in lower case); all keys and values
/// together may not exceed 256 KiB.
pub fn annotations(annotations: Option<&BTreeMap<String, String>>, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut total = 0;
    for (key, value) in annotations.into_iter().flatten() {
        errs.extend(
            is_qualified_name(&key.to_lowercase())
                .into_iter()
                .map(|m| FieldError::invalid(path, key, m)),
        );
        total += key.len() + value.len();
    }
    if total > TOTAL_ANNOTATION_SIZE_LIMIT {
        errs.push(FieldError::too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT));
    }
    errs
}

fn owner_references(refs: &[OwnerReference], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut first_controller: Option<String> = None;
    for owner in refs {
        errs.extend(owner_reference(owner, path));
        if owner.controller != Some(true) {
            continue;
        }
        let this = format!("{}/{}", owner.kind, owner.name);
        match &first_controller {
            Some(first) => errs.push(FieldError::invalid(
                path,
                go::slice("v1.OwnerReference", Some(refs.iter().map(|r| owner_reference_value(r).0))),
                format!("Only one reference can have Controller set to true. Found \"true\" in references for {first} and {this}"),
            )),
            None => first_controller = Some(this),
        }
    }
    errs
}

fn owner_reference(owner: &OwnerReference, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let (group, version) = split_api_version(&owner.api_version);
    if version.is_empty() {
        errs.push(FieldError::invalid(
            &path.child("apiVersion"),
            &owner.api_version,
            "version must not be empty",
        ));
    }
    if owner.kind.is_empty() {
        errs.push(FieldError::invalid(
            &path.child("kind"),
            &owner.kind,
            "kind must not be empty",
        ));
    }
    if owner.name.is_empty() {
        errs.push(FieldError::invalid(
            &path.child("name"),
            &owner.name,
            "name must not be empty",
        ));
    }
    if owner.uid.is_empty() {
        errs.push(FieldError::invalid(
            &path.child("uid"),
            &owner.uid,
            "uid must not be empty",
        ));
    }
    if group.is_empty() && version == "v1" && owner.kind == "Event" {
        errs.push(FieldError::invalid(
            path,
            owner_reference_value(owner),
            "/v1, Kind=Event is disallowed from being an owner",
        ));
    }
    errs
}

/// Splits `group/version` (or a bare `version`); a malformed value has neither part.
fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split('/').collect::<Vec<_>>().as_slice() {
        [version] => ("", version),
        [group, version] => (group, version),
        _ => ("", ""),
    }
}

fn owner_reference_value(owner: &OwnerReference) -> Rendered {
    let flag =
        |value: Option<bool>| value.map_or_else(|| "(*bool)(nil)".to_string(), |v| format!("&{v}"));
    Rendered(format!(
        "v1.OwnerReference{{APIVersion:{}, Kind:{}, Name:{}, UID:{}, Controller:{}, BlockOwnerDeletion:{}}}",
        go::quote(&owner.api_version),
        go::quote(&owner.kind),
        go::quote(&owner.name),
        go::quote(&owner.uid),
        flag(owner.controller),
        flag(owner.block_owner_deletion)
    ))
}

fn finalizers(finalizers: &[String], path: &Path) -> ErrorList {
    let mut errs: ErrorList = finalizers
        .iter()
        .flat_map(|f| {
            is_qualified_name(f)
                .into_iter()
                .map(move |m| FieldError::invalid(path, f, m))
        })
        .collect();
    let has = |name: &str| finalizers.iter().any(|f| f == name);
    if has("orphan") && has("foregroundDeletion") {
        errs.push(FieldError::invalid(
            path,
            go::strings(Some(finalizers)),
            "finalizer orphan and foregroundDeletion cannot be both set",
        ));
    }
    errs
}

fn kube_finalizer_names(finalizers: &[String], path: &Path) -> ErrorList {
    finalizers
        .iter()
        .enumerate()
        .filter_map(|(i, f)| kube_finalizer_name(f, &path.index(i)))
        .collect()
}

/// A finalizer without a domain must be one of the standard ones.
pub fn kube_finalizer_name(finalizer: &str, path: &Path) -> Option<FieldError> {
    let standard = finalizer.contains('/') || STANDARD_FINALIZERS.contains(&finalizer);
    (!standard).then(|| {
        FieldError::invalid(
            path,
            finalizer,
            "name is neither a standard finalizer name nor is it fully qualified",
        )
    })
}

/// Upstream's `ValidateLabelSelector` with invalid label values rejected.
pub fn label_selector(selector: Option<&LabelSelector>, path: &Path) -> ErrorList {
    let Some(selector) = selector else {
        return ErrorList::new();
    };
    let mut errs = labels(selector.match_labels.as_ref(), &path.child("matchLabels"));
    for (i, expr) in selector.match_expressions.iter().flatten().enumerate() {
        let expr_path = path.child("matchExpressions").index(i);
        let values = expr.values.as_deref().unwrap_or_default();
        match expr.operator.as_str() {
            "In" | "NotIn" if values.is_empty() => errs.push(FieldError::required(
                &expr_path.child("values"),
                "must be specified when `operator` is 'In' or 'NotIn'",
            )),
            "Exists" | "DoesNotExist" if !values.is_empty() => errs.push(FieldError::forbidden(
                &expr_path.child("values"),
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            )),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => errs.push(FieldError::invalid(
                &expr_path.child("operator"),
                other,
                "not a valid selector operator",
            )),
        }
        errs.extend(label_key(&expr.key, &expr_path.child("key")));
        for (j, value) in values.iter().enumerate() {
            let value_path = expr_path.child("values").index(j);
            errs.extend(
                is_valid_label_value(value)
                    .into_iter()
                    .map(|m| FieldError::invalid(&value_path, value, m)),
            );
        }
    }
    errs
}

/// A label selector converted for matching, as `metav1.LabelSelectorAsSelector` converts it.
pub enum Selector {
    /// A missing selector, which matches nothing.
    Nothing,
    Requirements(Vec<Requirement>),
}

pub struct Requirement {
    key: String,
    operator: Operator,
    values: Vec<String>,
}

enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl Selector {
    /// Converts a selector; `None` when it could not be converted (upstream's error case).
    pub fn parse(selector: Option<&LabelSelector>) -> Option<Self> {
        let Some(selector) = selector else {
            return Some(Self::Nothing);
        };
        let mut reqs = Vec::new();
        for (key, value) in selector.match_labels.iter().flatten() {
            reqs.push(Requirement::new(key, "In", vec![value.clone()])?);
        }
        for expr in selector.match_expressions.iter().flatten() {
            reqs.push(Requirement::new(
                &expr.key,
                &expr.operator,
                expr.values.clone().unwrap_or_default(),
            )?);
        }
        Some(Self::Requirements(reqs))
    }

    /// Whether the selector selects everything (no requirements).
    pub fn is_empty(&self) -> bool {
        matches!(self, Self::Requirements(reqs) if reqs.is_empty())
    }

    pub fn matches(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        match self {
            Self::Nothing => false,
            Self::Requirements(reqs) => reqs
                .iter()
                .all(|req| req.matches(labels.and_then(|l| l.get(&req.key)))),
        }
    }
}

impl Requirement {
    fn new(key: &str, operator: &str, values: Vec<String>) -> Option<Self> {
        let operator = match operator {
            "In" => Operator::In,
            "NotIn" => Operator::NotIn,
            "Exists" => Operator::Exists,
            "DoesNotExist" => Operator::DoesNotExist,
            _ => return None,
        };
        let needs_values = matches!(operator, Operator::In | Operator::NotIn);
        let valid = is_qualified_name(key).is_empty()
            && needs_values != values.is_empty()
            && values.iter().all(|v| is_valid_label_value(v).is_empty());
        valid.then(|| Self {
            key: key.to_string(),
            operator,
            values,
        })
    }

    fn matches(&self, value: Option<&String>) -> bool {
        match self.operator {
            Operator::In => value.is_some_and(|v| self.values.contains(v)),
            Operator::NotIn => value.is_none_or(|v| !self.values.contains(v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            namespace: namespace.map(Into::into),
            ..Default::default()
        }
    }

    fn strings(errs: &ErrorList) -> Vec<String> {
        errs.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn names_and_namespaces() {
        assert!(
            object_meta(
                &meta("web", Some("default")),
                true,
                NameRule::DnsSubdomain,
                None
            )
            .is_empty()
        );
        let errs = object_meta(&ObjectMeta::default(), true, NameRule::DnsSubdomain, None);
        assert_eq!(
            strings(&errs),
            vec![
                "metadata.name: Required value: name or generateName is required",
                "metadata.namespace: Required value"
            ]
        );
        let errs = object_meta(
            &meta("web", Some("default")),
            false,
            NameRule::DnsLabel,
            None,
        );
        assert_eq!(
            strings(&errs),
            vec!["metadata.namespace: Forbidden: not allowed on this type"]
        );
        let errs = object_meta(
            &meta("Web", Some("default")),
            true,
            NameRule::DnsSubdomain,
            None,
        );
        assert_eq!(
            strings(&errs),
            vec![format!(
                "metadata.name: Invalid value: \"Web\": {}",
                super::super::names::is_dns1123_subdomain("Web")[0]
            )]
        );
        let generated = ObjectMeta {
            generate_name: Some("web-".into()),
            name: Some("web-x1".into()),
            namespace: Some("ns".into()),
            ..Default::default()
        };
        assert!(object_meta(&generated, true, NameRule::DnsSubdomain, None).is_empty());
    }

    #[test]
    fn labels_annotations_and_finalizers() {
        let mut m = meta("web", Some("default"));
        m.labels = Some(BTreeMap::from([("app".into(), "-bad".into())]));
        m.annotations = Some(BTreeMap::from([(
            "big".into(),
            "x".repeat(TOTAL_ANNOTATION_SIZE_LIMIT),
        )]));
        m.finalizers = Some(vec!["custom".into()]);
        let errs = strings(&object_meta(&m, true, NameRule::DnsSubdomain, None));
        assert_eq!(errs.len(), 3);
        assert!(errs[0].starts_with(
            "metadata.labels: Invalid value: \"-bad\": a valid label must be an empty string"
        ));
        assert_eq!(
            errs[1],
            "metadata.annotations: Too long: may not be more than 262144 bytes"
        );
        assert_eq!(
            errs[2],
            "metadata.finalizers[0]: Invalid value: \"custom\": name is neither a standard finalizer name nor is it fully qualified"
        );
    }

    #[test]
    fn owner_references_allow_one_controller() {
        let owner = |name: &str| OwnerReference {
            api_version: "apps/v1".into(),
            kind: "ReplicaSet".into(),
            name: name.into(),
            uid: "u".into(),
            controller: Some(true),
            block_owner_deletion: None,
        };
        let mut m = meta("web", Some("default"));
        m.owner_references = Some(vec![owner("a"), owner("b")]);
        let errs = object_meta(&m, true, NameRule::DnsSubdomain, None);
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0]
                .detail
                .ends_with("Found \"true\" in references for ReplicaSet/a and ReplicaSet/b")
        );
    }

    #[test]
    fn updates_keep_identity_fields() {
        let old = ObjectMeta {
            resource_version: Some("5".into()),
            uid: Some("u1".into()),
            ..meta("web", Some("default"))
        };
        let mut new = old.clone();
        new.name = Some("other".into());
        new.resource_version = None;
        let errs = strings(&object_meta(&new, true, NameRule::DnsSubdomain, Some(&old)));
        assert_eq!(
            errs,
            vec![
                "metadata.resourceVersion: Invalid value: \"\": must be specified for an update",
                "metadata.name: Invalid value: \"other\": field is immutable",
            ]
        );
    }

    #[test]
    fn selectors_validate_and_match() {
        let selector = LabelSelector {
            match_labels: Some(BTreeMap::from([("app".into(), "web".into())])),
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "tier".into(),
                operator: "Bad".into(),
                values: None,
            }]),
        };
        let errs = strings(&label_selector(
            Some(&selector),
            &Path::new("spec").child("selector"),
        ));
        assert_eq!(
            errs,
            vec![
                "spec.selector.matchExpressions[0].operator: Invalid value: \"Bad\": not a valid selector operator"
            ]
        );
        assert!(Selector::parse(Some(&selector)).is_none());
        let good = LabelSelector {
            match_expressions: None,
            ..selector
        };
        let parsed = Selector::parse(Some(&good)).expect("valid selector");
        assert!(parsed.matches(Some(&BTreeMap::from([("app".into(), "web".into())]))));
        assert!(!parsed.matches(None));
        assert!(!Selector::parse(None).expect("nil selector").matches(None));
    }
}
