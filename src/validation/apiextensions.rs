//! CustomResourceDefinitions (apiextensions.k8s.io/v1): upstream's
//! `ValidateCustomResourceDefinition` and `ValidateCustomResourceDefinitionUpdate`, with the
//! structural-schema rules (`apiserver/schema`) every definition's schema must follow so the API
//! server can prune, default and serve the custom objects.
//!
//! Upstream validates its internal form of the object, into which conversion from v1 moves a
//! schema, subresources, printer columns or selectable fields that every version shares up to
//! the spec. Its errors then name `spec.validation`, `spec.subresources` and
//! `spec.additionalPrinterColumns` for the common single-version definition, and the first
//! version's name is checked a second time as `spec.version`; [`Layout`] reproduces that so the
//! messages read as kube-apiserver's. Messages follow Kubernetes 1.33.
//!
//! Left to other modules: compiling `x-kubernetes-validations` rules and parsing printer-column
//! JSONPaths. Not done here: validating default values against their schema (only that they
//! carry no unknown fields), the regular expressions of `pattern`, the paths of selectable
//! fields, and the conversion webhook's CA bundle.

use std::collections::{BTreeMap, HashSet};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceColumnDefinition, CustomResourceConversion, CustomResourceDefinition,
    CustomResourceDefinitionNames, CustomResourceDefinitionSpec, CustomResourceDefinitionVersion,
    CustomResourceSubresources, CustomResourceValidation, JSONSchemaProps, JSONSchemaPropsOrArray,
    JSONSchemaPropsOrBool, JSONSchemaPropsOrStringArray, SelectableField, ValidationRule,
};
use serde_json::Value;

use super::field::{ErrorList, FieldError, Path};
use super::go::{self, Rendered};
use super::meta::{immutable, object_meta};
use super::names::{NameRule, is_dns1035_label, is_dns1123_subdomain};
use super::url::GoUrl;
use super::webhook;
use super::{opt_slice, text};

const NAME_MISMATCH: &str = "must be spec.names.plural+\".\"+spec.group";
const SCOPES: [&str; 2] = ["Cluster", "Namespaced"];
const CONVERSION_STRATEGIES: [&str; 2] = ["None", "Webhook"];
/// The ConversionReview versions the API server can send; a webhook must accept one of them.
// The enumerations below are sorted, as upstream lists them in its messages.
const OPENAPI_TYPES: [&str; 6] = ["array", "boolean", "integer", "number", "object", "string"];
const COLUMN_TYPES: [&str; 5] = ["boolean", "date", "integer", "number", "string"];
const COLUMN_FORMATS: [&str; 8] = [
    "byte",
    "date",
    "date-time",
    "double",
    "float",
    "int32",
    "int64",
    "password",
];
/// The fields of an embedded resource that the API server handles itself.
const META_FIELDS: [&str; 3] = ["apiVersion", "kind", "metadata"];
/// What the root of a schema may hold when the status subresource is on, so that the status
/// keeps its validation once cut out as `properties.status` (upstream's Go field names).
const ALLOWED_AT_ROOT_WITH_STATUS: [&str; 22] = [
    "Description",
    "Type",
    "Format",
    "Title",
    "Maximum",
    "ExclusiveMaximum",
    "Minimum",
    "ExclusiveMinimum",
    "MaxLength",
    "MinLength",
    "Pattern",
    "MaxItems",
    "MinItems",
    "UniqueItems",
    "MultipleOf",
    "Required",
    "Items",
    "Properties",
    "ExternalDocs",
    "Example",
    "XPreserveUnknownFields",
    "XValidations",
];
const APPROVAL_ANNOTATION: &str = "api-approved.kubernetes.io";
const APPROVAL_POLICY: &str = "see https://github.com/kubernetes/enhancements/pull/1111";
const MAX_SELECTABLE_FIELDS: usize = 8;
/// The port defaulting gives a service reference without one.
/// The detail of the core group's finalizer rule, which the apiextensions group does not apply
/// (its own `customresourcecleanup.apiextensions.k8s.io` would break it).
const KUBE_FINALIZER_DETAIL: &str =
    "name is neither a standard finalizer name nor is it fully qualified";

/// Validates a CustomResourceDefinition on create (`old` is `None`) or update. The object is
/// expected defaulted and, on create, prepared (its status holding the storage version).
pub fn custom_resource_definition(
    crd: &CustomResourceDefinition,
    old: Option<&CustomResourceDefinition>,
) -> ErrorList {
    let options = old.map_or(Options::CREATE, Options::update);
    let spec_path = Path::new("spec");
    let mut errs = metadata(crd, old);
    errs.extend(spec(&crd.spec, options, &spec_path));
    if let Some(old) = old {
        errs.extend(spec_update(&crd.spec, &old.spec, options, &spec_path));
    }
    let status = crd.status.as_ref();
    let status_path = Path::new("status");
    if let Some(names) = status.and_then(|s| s.accepted_names.as_ref()) {
        errs.extend(names_format(names, &status_path.child("acceptedNames")));
    }
    errs.extend(stored_versions(
        status.and_then(|s| s.stored_versions.as_deref()),
        &crd.spec.versions,
        &status_path.child("storedVersions"),
    ));
    errs.extend(api_approval(crd, old));
    errs.extend(preserve_unknown_fields(crd, old));
    errs
}

/// Rules newer API servers added: an update applies each only if the stored definition already
/// followed it, so definitions stored before it keep working.
#[derive(Clone, Copy)]
struct Options {
    require_recognized_review_version: bool,
    /// Scope and kind decide where objects are stored, so they stay once the API is served.
    require_immutable_names: bool,
    require_open_api_schema: bool,
    require_valid_property_type: bool,
    require_structural_schema: bool,
    require_pruned_defaults: bool,
    require_atomic_set_type: bool,
    require_map_list_keys_map_set_validation: bool,
}

impl Options {
    const CREATE: Self = Self {
        require_recognized_review_version: true,
        require_immutable_names: false,
        require_open_api_schema: true,
        require_valid_property_type: true,
        require_structural_schema: true,
        require_pruned_defaults: true,
        require_atomic_set_type: true,
        require_map_list_keys_map_set_validation: true,
    };

    fn update(old: &CustomResourceDefinition) -> Self {
        let schemas: Vec<&JSONSchemaProps> = schemas_of(&old.spec).collect();
        let any = |pred: &dyn Fn(&JSONSchemaProps) -> bool| {
            schemas.iter().any(|schema| schema_has(schema, pred))
        };
        let review_versions = old
            .spec
            .conversion
            .as_ref()
            .and_then(|c| c.webhook.as_ref())
            .map(|w| w.conversion_review_versions.as_slice())
            .unwrap_or_default();
        Self {
            require_recognized_review_version: review_versions.is_empty()
                || review_versions
                    .iter()
                    .any(|v| webhook::ACCEPTED_REVIEW_VERSIONS.contains(&v.as_str())),
            require_immutable_names: established(old),
            require_open_api_schema: old.spec.versions.iter().all(|v| {
                v.schema
                    .as_ref()
                    .is_some_and(|s| s.open_api_v3_schema.is_some())
            }),
            require_valid_property_type: !any(&|s| {
                let t = ty(s);
                !t.is_empty() && !OPENAPI_TYPES.contains(&t)
            }),
            require_structural_schema: !schemas.iter().any(|s| is_non_structural(s)),
            require_pruned_defaults: !schemas.iter().any(|s| has_unpruned_defaults(s)),
            require_atomic_set_type: !any(&has_non_atomic_set_type),
            require_map_list_keys_map_set_validation: !any(&|s| {
                !map_list_keys_map_set(s, &Path::new("")).is_empty()
            }),
        }
    }
}

/// Whether the definition's API is served: its `Established` condition is true.
fn established(crd: &CustomResourceDefinition) -> bool {
    crd.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|conditions| conditions.iter().find(|c| c.type_ == "Established"))
        .is_some_and(|c| c.status == "True")
}

/// Which per-version fields upstream's internal form holds once for the whole spec: those all
/// versions set to the same value.
#[derive(Clone, Copy)]
struct Layout {
    schema: bool,
    subresources: bool,
    columns: bool,
    selectable_fields: bool,
}

impl Layout {
    fn of(versions: &[CustomResourceDefinitionVersion]) -> Self {
        Self {
            schema: all_same(versions, |v| v.schema.as_ref()),
            subresources: all_same(versions, |v| v.subresources.as_ref()),
            columns: all_same(versions, |v| opt_slice(&v.additional_printer_columns)),
            selectable_fields: all_same(versions, |v| opt_slice(&v.selectable_fields)),
        }
    }
}

fn all_same<'a, T: PartialEq>(
    versions: &'a [CustomResourceDefinitionVersion],
    field: impl Fn(&'a CustomResourceDefinitionVersion) -> T,
) -> bool {
    versions.split_first().is_some_and(|(first, rest)| {
        let first = field(first);
        rest.iter().all(|v| field(v) == first)
    })
}

/// The schemas of all versions.
fn schemas_of(spec: &CustomResourceDefinitionSpec) -> impl Iterator<Item = &JSONSchemaProps> {
    spec.versions.iter().filter_map(|v| {
        v.schema
            .as_ref()
            .and_then(|s| s.open_api_v3_schema.as_ref())
    })
}

/// Object metadata as apimachinery checks it (without the core group's finalizer rule), the
/// name being `<plural>.<group>` on create.
fn metadata(crd: &CustomResourceDefinition, old: Option<&CustomResourceDefinition>) -> ErrorList {
    let meta = &crd.metadata;
    let mut errs: ErrorList = object_meta(
        meta,
        false,
        NameRule::DnsSubdomain,
        old.map(|o| &o.metadata),
    )
    .into_iter()
    .filter(|e| !(e.field.starts_with("metadata.finalizers[") && e.detail == KUBE_FINALIZER_DETAIL))
    .collect();
    if old.is_some() {
        return errs;
    }
    // Upstream's name rule adds this after the DNS checks of the same field.
    let required = format!("{}.{}", crd.spec.names.plural, crd.spec.group);
    let path = Path::new("metadata");
    let generate_name = text(&meta.generate_name);
    if !generate_name.is_empty() && generate_name != required {
        let at = leading(&errs, &["metadata.generateName"]);
        let err = FieldError::invalid(&path.child("generateName"), generate_name, NAME_MISMATCH);
        errs.insert(at, err);
    }
    let name = text(&meta.name);
    if !name.is_empty() && name != required {
        let at = leading(&errs, &["metadata.generateName", "metadata.name"]);
        errs.insert(
            at,
            FieldError::invalid(&path.child("name"), name, NAME_MISMATCH),
        );
    }
    errs
}

/// How many errors at the start of `errs` concern one of `fields`.
fn leading(errs: &ErrorList, fields: &[&str]) -> usize {
    errs.iter()
        .take_while(|e| fields.contains(&e.field.as_str()))
        .count()
}

fn spec(spec: &CustomResourceDefinitionSpec, options: Options, path: &Path) -> ErrorList {
    let mut options = options;
    let versions = spec.versions.as_slice();
    let layout = Layout::of(versions);
    let preserve = spec.preserve_unknown_fields == Some(true);
    let mut errs: ErrorList = group(&spec.group, &path.child("group"))
        .into_iter()
        .collect();
    errs.extend(enum_value(&spec.scope, &SCOPES, &path.child("scope")));
    // Pruning unknown fields needs a structural schema.
    if !preserve {
        options.require_structural_schema = true;
    }
    let versions_path = path.child("versions");
    let top_schema = layout
        .schema
        .then(|| versions.first().and_then(|v| v.schema.as_ref()))
        .flatten();
    let has_schema =
        |v: Option<&CustomResourceValidation>| v.is_some_and(|v| v.open_api_v3_schema.is_some());
    if !has_schema(top_schema) {
        for (i, version) in versions.iter().enumerate() {
            let own = if layout.schema {
                None
            } else {
                version.schema.as_ref()
            };
            let schema_path = versions_path
                .index(i)
                .child("schema")
                .child("openAPIV3Schema");
            if options.require_open_api_schema && !has_schema(own) {
                errs.push(FieldError::required(&schema_path, "schemas are required"));
            } else if !options.require_open_api_schema
                && !preserve
                && version.served
                && !has_schema(own)
            {
                errs.push(FieldError::required(
                    &schema_path,
                    "because otherwise all fields are pruned",
                ));
            }
        }
    }
    let schemas: Vec<&JSONSchemaProps> = schemas_of(spec).collect();
    if schemas
        .iter()
        .any(|s| schema_has(s, &|s| s.default.is_some()))
    {
        options.require_structural_schema = true;
        if preserve {
            errs.push(FieldError::invalid(
                &path.child("preserveUnknownFields"),
                true,
                "must be false in order to use defaults in the schema",
            ));
        }
    }
    if schemas
        .iter()
        .any(|s| schema_has(s, &has_kubernetes_extensions))
    {
        options.require_structural_schema = true;
    }

    let mut names = HashSet::new();
    let mut unique = true;
    let mut storage = 0;
    for (i, version) in versions.iter().enumerate() {
        storage += usize::from(version.storage);
        unique &= names.insert(version.name.as_str());
        let version_path = versions_path.index(i);
        errs.extend(dns1035(&version.name, &version_path.child("name")));
        let status = version_status_enabled(versions, layout, &version.name);
        errs.extend(version_rules(
            version,
            layout,
            status,
            options,
            &version_path,
        ));
    }
    if !unique {
        errs.push(FieldError::invalid(
            &versions_path,
            go_versions(versions, layout),
            "must contain unique version names",
        ));
    }
    if storage != 1 {
        errs.push(FieldError::invalid(
            &versions_path,
            go_versions(versions, layout),
            "must have exactly one version marked as storage version",
        ));
    }
    // The internal form names its first version once more, as the deprecated `version`.
    if let Some(first) = versions.first().filter(|v| !v.name.is_empty()) {
        errs.extend(dns1035(&first.name, &path.child("version")));
    }

    let names_path = path.child("names");
    let n = &spec.names;
    for (value, field) in [
        (n.plural.as_str(), "plural"),
        (text(&n.singular), "singular"),
        (n.kind.as_str(), "kind"),
        (text(&n.list_kind), "listKind"),
    ] {
        if value.is_empty() {
            errs.push(FieldError::required(&names_path.child(field), ""));
        }
    }
    errs.extend(names_format(n, &names_path));

    let any_status = versions
        .iter()
        .any(|v| v.subresources.as_ref().is_some_and(|s| s.status.is_some()));
    errs.extend(schema_validation(
        top_schema,
        any_status,
        options,
        &path.child("validation"),
    ));
    if layout.subresources
        && let Some(subresources) = versions.first().and_then(|v| v.subresources.as_ref())
    {
        errs.extend(subresource_rules(subresources, &path.child("subresources")));
    }
    if layout.columns {
        let columns = versions
            .first()
            .map(|v| opt_slice(&v.additional_printer_columns))
            .unwrap_or_default();
        let columns_path = path.child("additionalPrinterColumns");
        for (i, column) in columns.iter().enumerate() {
            errs.extend(column_rules(column, &columns_path.index(i)));
        }
    }
    if layout.selectable_fields {
        let fields = versions
            .first()
            .map(|v| opt_slice(&v.selectable_fields))
            .unwrap_or_default();
        let fields_path = path.child("selectableFields");
        if !fields.is_empty() && top_schema.is_none() {
            errs.push(FieldError::invalid(
                &fields_path,
                "",
                "selectableFields may only be set when validations.schema is included",
            ));
        } else if !fields.is_empty() {
            errs.extend(selectable_fields(fields, &fields_path));
        }
    }

    if let Some(conversion) = &spec.conversion
        && conversion.strategy != "None"
        && preserve
    {
        errs.push(FieldError::invalid(
            &path.child("conversion").child("strategy"),
            conversion.strategy.as_str(),
            "must be None if spec.preserveUnknownFields is true",
        ));
    }
    errs.extend(conversion_rules(
        spec.conversion.as_ref(),
        options.require_recognized_review_version,
        &path.child("conversion"),
    ));
    errs
}

/// On update the resource's name (group and plural) never changes, nor, once the API is
/// served, its scope and kind.
fn spec_update(
    new: &CustomResourceDefinitionSpec,
    old: &CustomResourceDefinitionSpec,
    options: Options,
    path: &Path,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let names_path = path.child("names");
    if options.require_immutable_names {
        errs.extend(immutable(
            new.scope.as_str(),
            old.scope.as_str(),
            &path.child("scope"),
        ));
        errs.extend(immutable(
            new.names.kind.as_str(),
            old.names.kind.as_str(),
            &names_path.child("kind"),
        ));
    }
    errs.extend(immutable(
        new.group.as_str(),
        old.group.as_str(),
        &path.child("group"),
    ));
    errs.extend(immutable(
        new.names.plural.as_str(),
        old.names.plural.as_str(),
        &names_path.child("plural"),
    ));
    errs
}

/// A group is a DNS subdomain with at least one dot, so it cannot clash with a built-in group.
fn group(group: &str, path: &Path) -> Option<FieldError> {
    if group.is_empty() {
        return Some(FieldError::required(path, ""));
    }
    let msgs = is_dns1123_subdomain(group);
    if !msgs.is_empty() {
        return Some(FieldError::invalid(path, group, msgs.join(",")));
    }
    (!group.contains('.'))
        .then(|| FieldError::invalid(path, group, "should be a domain with at least one dot"))
}

/// A required value out of an enumeration.
fn enum_value(value: &str, accepted: &[&str], path: &Path) -> Option<FieldError> {
    if value.is_empty() {
        Some(FieldError::required(path, ""))
    } else if accepted.contains(&value) {
        None
    } else {
        Some(FieldError::not_supported(path, value, accepted))
    }
}

/// A DNS-1035 label, its messages joined as upstream joins them.
fn dns1035(value: &str, path: &Path) -> Option<FieldError> {
    let msgs = is_dns1035_label(value);
    (!msgs.is_empty()).then(|| FieldError::invalid(path, value, msgs.join(",")))
}

/// Kinds may have mixed case but otherwise follow the DNS-1035 label rule.
fn mixed_case_kind(kind: &str, path: &Path) -> Option<FieldError> {
    if kind.is_empty() {
        return None;
    }
    let msgs = is_dns1035_label(&kind.to_lowercase());
    (!msgs.is_empty()).then(|| {
        FieldError::invalid(
            path,
            kind,
            format!(
                "may have mixed case, but should otherwise match: {}",
                msgs.join(",")
            ),
        )
    })
}

/// The formats of the names under which the resource is served; the names the spec requires
/// are checked by the caller, as the accepted names of the status may be empty.
fn names_format(names: &CustomResourceDefinitionNames, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if !names.plural.is_empty() {
        errs.extend(dns1035(&names.plural, &path.child("plural")));
    }
    let singular = text(&names.singular);
    if !singular.is_empty() {
        errs.extend(dns1035(singular, &path.child("singular")));
    }
    let list_kind = text(&names.list_kind);
    errs.extend(mixed_case_kind(&names.kind, &path.child("kind")));
    errs.extend(mixed_case_kind(list_kind, &path.child("listKind")));
    let short_names_path = path.child("shortNames");
    for (i, short_name) in opt_slice(&names.short_names).iter().enumerate() {
        errs.extend(dns1035(short_name, &short_names_path.index(i)));
    }
    // Both kinds are parsed from the same requests, so they must differ.
    if !names.kind.is_empty() && names.kind == list_kind {
        errs.push(FieldError::invalid(
            &path.child("listKind"),
            list_kind,
            "kind and listKind may not be the same",
        ));
    }
    let categories_path = path.child("categories");
    for (i, category) in opt_slice(&names.categories).iter().enumerate() {
        errs.extend(dns1035(category, &categories_path.index(i)));
    }
    errs
}

/// Whether the status subresource is on for the version named `name`.
fn version_status_enabled(
    versions: &[CustomResourceDefinitionVersion],
    layout: Layout,
    name: &str,
) -> bool {
    let version = if layout.subresources {
        versions.first()
    } else {
        versions.iter().find(|v| v.name == name)
    };
    version
        .and_then(|v| v.subresources.as_ref())
        .is_some_and(|s| s.status.is_some())
}

/// The fields of one version that the internal form keeps on it.
fn version_rules(
    version: &CustomResourceDefinitionVersion,
    layout: Layout,
    status_enabled: bool,
    options: Options,
    path: &Path,
) -> ErrorList {
    let warning_path = path.child("deprecationWarning");
    let mut errs: ErrorList = deprecation_warning(
        version.deprecated == Some(true),
        version.deprecation_warning.as_deref(),
    )
    .into_iter()
    .map(|m| FieldError::invalid(&warning_path, &version.deprecation_warning, m))
    .collect();
    let own_schema = if layout.schema {
        None
    } else {
        version.schema.as_ref()
    };
    errs.extend(schema_validation(
        own_schema,
        status_enabled,
        options,
        &path.child("schema"),
    ));
    if !layout.subresources
        && let Some(subresources) = &version.subresources
    {
        errs.extend(subresource_rules(subresources, &path.child("subresources")));
    }
    if !layout.columns {
        let columns_path = path.child("additionalPrinterColumns");
        for (i, column) in opt_slice(&version.additional_printer_columns)
            .iter()
            .enumerate()
        {
            errs.extend(column_rules(column, &columns_path.index(i)));
        }
    }
    let fields = opt_slice(&version.selectable_fields);
    if !layout.selectable_fields && !fields.is_empty() {
        let fields_path = path.child("selectableFields");
        if own_schema
            .and_then(|s| s.open_api_v3_schema.as_ref())
            .is_none()
        {
            errs.push(FieldError::invalid(
                &fields_path,
                "",
                "selectableFields may only be set when version.schema.openAPIV3Schema is not included",
            ));
        } else {
            errs.extend(selectable_fields(fields, &fields_path));
        }
    }
    errs
}

/// A deprecation warning is for deprecated versions only and is one short, printable line.
fn deprecation_warning(deprecated: bool, warning: Option<&str>) -> Vec<String> {
    let Some(warning) = warning else {
        return Vec::new();
    };
    if !deprecated {
        return vec!["can only be set for deprecated versions".to_string()];
    }
    let mut errs = Vec::new();
    if warning.len() > 256 {
        errs.push("must be <= 256 characters long".to_string());
    }
    if warning.is_empty() {
        errs.push("must not be an empty string".to_string());
    }
    if let Some((i, _)) = warning.char_indices().find(|(_, c)| !is_printable(*c)) {
        errs.push(format!(
            "must only contain printable UTF-8 characters; non-printable character found at index {i}"
        ));
    }
    errs
}

/// Go's `unicode.IsPrint`, approximately: no control, format, private-use or space character
/// other than the ASCII space.
fn is_printable(c: char) -> bool {
    c == ' '
        || !(c.is_control()
            || c.is_whitespace()
            || matches!(
                c,
                '\u{AD}'
                    | '\u{200B}'..='\u{200F}'
                    | '\u{202A}'..='\u{202E}'
                    | '\u{2060}'..='\u{2064}'
                    | '\u{FEFF}'
                    | '\u{E000}'..='\u{F8FF}'
            ))
}

/// Scale's paths point into the custom object; upstream only checks their shape here.
fn subresource_rules(subresources: &CustomResourceSubresources, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let Some(scale) = &subresources.scale else {
        return errs;
    };
    let scale_path = path.child("scale");
    errs.extend(replicas_path(
        &scale.spec_replicas_path,
        ".spec.",
        "should be a json path under .spec",
        &scale_path.child("specReplicasPath"),
    ));
    errs.extend(replicas_path(
        &scale.status_replicas_path,
        ".status.",
        "should be a json path under .status",
        &scale_path.child("statusReplicasPath"),
    ));
    if let Some(selector) = scale
        .label_selector_path
        .as_deref()
        .filter(|p| !p.is_empty())
    {
        let selector_path = scale_path.child("labelSelectorPath");
        if let Some(err) = simple_json_path(selector, &selector_path) {
            errs.push(err);
        } else if !selector.starts_with(".spec.") && !selector.starts_with(".status.") {
            errs.push(FieldError::invalid(
                &selector_path,
                &scale.label_selector_path,
                "should be a json path under either .spec or .status",
            ));
        }
    }
    errs
}

fn replicas_path(value: &str, prefix: &str, detail: &str, path: &Path) -> Option<FieldError> {
    if value.is_empty() {
        return Some(FieldError::required(path, ""));
    }
    simple_json_path(value, path)
        .or_else(|| (!value.starts_with(prefix)).then(|| FieldError::invalid(path, value, detail)))
}

/// Upstream's `validateSimpleJSONPath`: a path in the dot notation, from the object's root.
fn simple_json_path(value: &str, path: &Path) -> Option<FieldError> {
    if value.is_empty() {
        Some(FieldError::invalid(path, value, "must not be empty"))
    } else if !value.starts_with('.') {
        Some(FieldError::invalid(
            path,
            value,
            "must be a simple json path starting with .",
        ))
    } else {
        None
    }
}

/// A printer column: a name, a type kubectl knows how to print, and where the value is. The
/// path's field is `JSONPath`, as upstream names it.
fn column_rules(column: &CustomResourceColumnDefinition, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if column.name.is_empty() {
        errs.push(FieldError::required(&path.child("name"), ""));
    }
    let types = format!("must be one of {}", COLUMN_TYPES.join(","));
    if column.type_.is_empty() {
        errs.push(FieldError::required(&path.child("type"), types));
    } else if !COLUMN_TYPES.contains(&column.type_.as_str()) {
        errs.push(FieldError::invalid(
            &path.child("type"),
            &column.type_,
            types,
        ));
    }
    let format = text(&column.format);
    if !format.is_empty() && !COLUMN_FORMATS.contains(&format) {
        errs.push(FieldError::invalid(
            &path.child("format"),
            format,
            format!("must be one of {}", COLUMN_FORMATS.join(",")),
        ));
    }
    let json_path = path.child("JSONPath");
    if column.json_path.is_empty() {
        errs.push(FieldError::required(&json_path, ""));
    } else {
        errs.extend(simple_json_path(&column.json_path, &json_path));
    }
    errs
}

/// Selectable fields need a path, once each, and there may be at most eight. Whether the path
/// leads to a scalar of the schema is not checked here.
fn selectable_fields(fields: &[SelectableField], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut unique = HashSet::new();
    for (i, field) in fields.iter().enumerate() {
        let json_path = path.index(i).child("jsonPath");
        if field.json_path.is_empty() {
            errs.push(FieldError::required(&json_path, ""));
            continue;
        }
        if !unique.insert(field.json_path.as_str()) {
            errs.push(FieldError::duplicate(&json_path, &field.json_path));
        }
    }
    if unique.len() > MAX_SELECTABLE_FIELDS {
        errs.push(FieldError::too_many(
            path,
            unique.len(),
            MAX_SELECTABLE_FIELDS,
        ));
    }
    errs
}

/// Conversion between versions is either none (only `apiVersion` changes) or a webhook's. The
/// paths name the internal form's `webhookClientConfig` and `conversionReviewVersions`.
fn conversion_rules(
    conversion: Option<&CustomResourceConversion>,
    require_recognized: bool,
    path: &Path,
) -> ErrorList {
    let Some(conversion) = conversion else {
        return ErrorList::new();
    };
    let mut errs: ErrorList = enum_value(
        &conversion.strategy,
        &CONVERSION_STRATEGIES,
        &path.child("strategy"),
    )
    .into_iter()
    .collect();
    let webhook = conversion.webhook.as_ref();
    let client_config = webhook.and_then(|w| w.client_config.as_ref());
    let review_versions = webhook
        .map(|w| w.conversion_review_versions.as_slice())
        .unwrap_or_default();
    let config_path = path.child("webhookClientConfig");
    let versions_path = path.child("conversionReviewVersions");
    if conversion.strategy == "Webhook" {
        match client_config {
            None => errs.push(FieldError::required(
                &config_path,
                "required when strategy is set to Webhook",
            )),
            Some(config) => {
                let service = config.service.as_ref().map(|s| webhook::Service {
                    namespace: &s.namespace,
                    name: &s.name,
                    path: s.path.as_deref(),
                    port: s.port,
                });
                errs.extend(webhook::client_config(
                    config.url.as_deref(),
                    service,
                    &config_path,
                ));
            }
        }
        errs.extend(review_versions_rules(
            review_versions,
            require_recognized,
            &versions_path,
        ));
    } else {
        let not_webhook = "should not be set when strategy is not set to Webhook";
        if client_config.is_some() {
            errs.push(FieldError::forbidden(&config_path, not_webhook));
        }
        if !review_versions.is_empty() {
            errs.push(FieldError::forbidden(&versions_path, not_webhook));
        }
    }
    errs
}

/// The webhook must accept a ConversionReview version this server sends (unless a stored
/// definition already did not); each version is listed once and is a DNS-1035 label.
fn review_versions_rules(versions: &[String], require_recognized: bool, path: &Path) -> ErrorList {
    webhook::review_versions(versions, require_recognized, "", path)
}

/// Stored versions are those objects may still be stored in: the storage version must be among
/// them, and every one must stay in the spec until a storage migration drops it.
fn stored_versions(
    stored: Option<&[String]>,
    versions: &[CustomResourceDefinitionVersion],
    path: &Path,
) -> ErrorList {
    let list = stored.unwrap_or_default();
    if list.is_empty() {
        return vec![FieldError::invalid(
            path,
            go::strings(stored),
            "must have at least one stored version",
        )];
    }
    let mut errs = ErrorList::new();
    let mut remaining: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, version) in list.iter().enumerate() {
        remaining.insert(version.as_str(), i);
    }
    for version in versions {
        let found = remaining.remove(version.name.as_str()).is_some();
        if version.storage && !found {
            errs.push(FieldError::invalid(
                path,
                go::strings(stored),
                format!("must have the storage version {}", version.name),
            ));
        }
    }
    // Upstream walks a map; index order makes the output stable.
    let mut missing: Vec<(usize, &str)> = remaining.into_iter().map(|(v, i)| (i, v)).collect();
    missing.sort_unstable();
    for (i, version) in missing {
        errs.push(FieldError::invalid(
            &path.index(i),
            version,
            format!(
                "missing from spec.versions; {version} was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in {version} and removes {version} from status.storedVersions"
            ),
        ));
    }
    errs
}

/// The states of the API-approval annotation that groups of the Kubernetes project require.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Approval {
    Invalid,
    Approved,
    Bypassed,
    Missing,
}

fn approval_state(crd: &CustomResourceDefinition) -> (Approval, String) {
    let value = crd
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(APPROVAL_ANNOTATION))
        .map_or("", String::as_str);
    let annotation = go::quote(APPROVAL_ANNOTATION);
    if value.is_empty() {
        return (
            Approval::Missing,
            format!(
                "protected groups must have approval annotation {annotation}, {APPROVAL_POLICY}"
            ),
        );
    }
    if value.starts_with("unapproved") {
        return (
            Approval::Bypassed,
            format!("not approved: {}", go::quote(value)),
        );
    }
    if GoUrl::parse(value).is_ok_and(|url| !url.host.is_empty() && !url.scheme.is_empty()) {
        return (Approval::Approved, format!("approved in {value}"));
    }
    (
        Approval::Invalid,
        format!(
            "protected groups must have approval annotation {annotation} with either a URL or a reason starting with \"unapproved\", {APPROVAL_POLICY}"
        ),
    )
}

/// Groups under `k8s.io` and `kubernetes.io` belong to the Kubernetes project: a definition in
/// one must point at the approval of its API, or say that it is unapproved.
fn api_approval(
    crd: &CustomResourceDefinition,
    old: Option<&CustomResourceDefinition>,
) -> Option<FieldError> {
    let group = crd.spec.group.as_str();
    let protected = ["k8s.io", "kubernetes.io"]
        .iter()
        .any(|domain| group == *domain || group.ends_with(&format!(".{domain}")));
    if !protected {
        return None;
    }
    let (state, reason) = approval_state(crd);
    // An update that leaves the state as it was is always accepted.
    if old.is_some_and(|old| approval_state(old).0 == state) {
        return None;
    }
    let path = Path::new("metadata")
        .child("annotations")
        .key(APPROVAL_ANNOTATION);
    let value = crd
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(APPROVAL_ANNOTATION))
        .map_or("", String::as_str);
    match state {
        Approval::Invalid => Some(FieldError::invalid(&path, value, reason)),
        Approval::Missing => Some(FieldError::required(&path, reason)),
        Approval::Approved | Approval::Bypassed => None,
    }
}

/// Keeping unknown fields for the whole resource is a v1beta1 leftover that only definitions
/// stored with it may keep.
fn preserve_unknown_fields(
    crd: &CustomResourceDefinition,
    old: Option<&CustomResourceDefinition>,
) -> Option<FieldError> {
    if old.is_some_and(|o| o.spec.preserve_unknown_fields == Some(true)) {
        return None;
    }
    (crd.spec.preserve_unknown_fields == Some(true)).then(|| {
        FieldError::invalid(
            &Path::new("spec").child("preserveUnknownFields"),
            true,
            "cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead",
        )
    })
}

// ---- Schemas ----

fn ty(s: &JSONSchemaProps) -> &str {
    text(&s.type_)
}

/// A Go `bool` behind an optional JSON field.
fn flag(value: Option<bool>) -> bool {
    value == Some(true)
}

fn preserves(s: &JSONSchemaProps) -> bool {
    flag(s.x_kubernetes_preserve_unknown_fields)
}

fn embedded(s: &JSONSchemaProps) -> bool {
    flag(s.x_kubernetes_embedded_resource)
}

fn int_or_string(s: &JSONSchemaProps) -> bool {
    flag(s.x_kubernetes_int_or_string)
}

fn items_schema(s: &JSONSchemaProps) -> Option<&JSONSchemaProps> {
    match &s.items {
        Some(JSONSchemaPropsOrArray::Schema(item)) => Some(&**item),
        _ => None,
    }
}

fn additional_schema(s: &JSONSchemaProps) -> Option<&JSONSchemaProps> {
    match &s.additional_properties {
        Some(JSONSchemaPropsOrBool::Schema(schema)) => Some(&**schema),
        _ => None,
    }
}

fn props(s: &JSONSchemaProps) -> impl Iterator<Item = (&String, &JSONSchemaProps)> {
    s.properties.iter().flatten()
}

fn prop<'a>(s: &'a JSONSchemaProps, key: &str) -> Option<&'a JSONSchemaProps> {
    s.properties.as_ref().and_then(|p| p.get(key))
}

fn non_empty<T>(value: &Option<Vec<T>>) -> bool {
    value.as_ref().is_some_and(|v| !v.is_empty())
}

/// Every schema directly below `s`, wherever it sits.
fn children(s: &JSONSchemaProps) -> Vec<&JSONSchemaProps> {
    let mut out: Vec<&JSONSchemaProps> = Vec::new();
    match &s.items {
        Some(JSONSchemaPropsOrArray::Schema(item)) => out.push(&**item),
        Some(JSONSchemaPropsOrArray::Schemas(items)) => out.extend(items),
        None => {}
    }
    out.extend(opt_slice(&s.all_of));
    out.extend(opt_slice(&s.any_of));
    out.extend(opt_slice(&s.one_of));
    out.extend(s.not.as_deref());
    out.extend(s.properties.iter().flat_map(|p| p.values()));
    out.extend(additional_schema(s));
    out.extend(s.pattern_properties.iter().flat_map(|p| p.values()));
    if let Some(JSONSchemaPropsOrBool::Schema(items)) = &s.additional_items {
        out.push(&**items);
    }
    out.extend(s.definitions.iter().flat_map(|d| d.values()));
    for dependency in s.dependencies.iter().flat_map(|d| d.values()) {
        if let JSONSchemaPropsOrStringArray::Schema(schema) = dependency {
            out.push(&**schema);
        }
    }
    out
}

/// Upstream's `SchemaHas`: whether `pred` holds anywhere in the schema.
fn schema_has(s: &JSONSchemaProps, pred: &dyn Fn(&JSONSchemaProps) -> bool) -> bool {
    pred(s) || children(s).into_iter().any(|child| schema_has(child, pred))
}

fn has_kubernetes_extensions(s: &JSONSchemaProps) -> bool {
    embedded(s)
        || s.x_kubernetes_preserve_unknown_fields.is_some()
        || int_or_string(s)
        || non_empty(&s.x_kubernetes_list_map_keys)
        || s.x_kubernetes_list_type.is_some()
        || non_empty(&s.x_kubernetes_validations)
}

/// A set whose items are lists or objects that are not atomic.
fn has_non_atomic_set_type(s: &JSONSchemaProps) -> bool {
    if s.x_kubernetes_list_type.as_deref() != Some("set") {
        return false;
    }
    items_schema(s).is_some_and(|item| match ty(item) {
        "array" => item
            .x_kubernetes_list_type
            .as_deref()
            .is_some_and(|t| t != "atomic"),
        "object" => item.x_kubernetes_map_type.as_deref() != Some("atomic"),
        _ => false,
    })
}

fn is_non_structural(s: &JSONSchemaProps) -> bool {
    structural_conversion_error(s).is_some() || !structural_errors(s, &Path::new("")).is_empty()
}

fn has_unpruned_defaults(s: &JSONSchemaProps) -> bool {
    if !schema_has(s, &|s| s.default.is_some()) || is_non_structural(s) {
        return false;
    }
    let mut errs = ErrorList::new();
    default_errors(s, &Path::new(""), true, &mut errs);
    !errs.is_empty()
}

/// One schema (`validation` or a version's `schema`): upstream's
/// `validateCustomResourceDefinitionValidation`.
fn schema_validation(
    validation: Option<&CustomResourceValidation>,
    status_enabled: bool,
    options: Options,
    path: &Path,
) -> ErrorList {
    let Some(schema) = validation.and_then(|v| v.open_api_v3_schema.as_ref()) else {
        return ErrorList::new();
    };
    let path = path.child("openAPIV3Schema");
    let mut errs = ErrorList::new();
    if status_enabled {
        errs.extend(root_with_status(schema, &path));
    }
    if flag(schema.nullable) {
        errs.push(FieldError::forbidden(
            &path.child("nullable"),
            "nullable cannot be true at the root",
        ));
    }
    // Upstream reports a schema it cannot read as structural only when nothing else is wrong,
    // as the other rules mostly say the same.
    let mut unreadable = None;
    if options.require_structural_schema {
        match structural_conversion_error(schema) {
            Some(message) => unreadable = Some(FieldError::invalid(&path, "", message)),
            None => {
                let structural = structural_errors(schema, &path);
                if structural.is_empty() {
                    default_errors(schema, &path, options.require_pruned_defaults, &mut errs);
                } else {
                    errs.extend(structural);
                }
            }
        }
    }
    let rules = SchemaRules {
        allow_defaults: true,
        disallow_defaults_reason: String::new(),
        inside_resource_meta: false,
        require_valid_property_type: options.require_valid_property_type,
    };
    open_api_schema(schema, &path, &rules, true, options, &mut errs);
    if errs.is_empty() {
        errs.extend(unreadable);
    }
    errs
}

/// With the status subresource on, the root may only be an object described by the fields
/// that survive cutting out `properties.status`; the first other field is reported.
fn root_with_status(schema: &JSONSchemaProps, path: &Path) -> Option<FieldError> {
    for name in go_fields_set(schema) {
        if name == "Type" {
            if ty(schema) != "object" {
                return Some(FieldError::invalid(
                    &path.child("type"),
                    ty(schema),
                    "only \"object\" is allowed as the type at the root of the schema if the status subresource is enabled",
                ));
            }
            continue;
        }
        if !ALLOWED_AT_ROOT_WITH_STATUS.contains(&name) {
            return Some(FieldError::invalid(
                path,
                Rendered(go_schema(schema)),
                format!(
                    "only [{}] fields are allowed at the root of the schema if the status subresource is enabled",
                    ALLOWED_AT_ROOT_WITH_STATUS.join(" ")
                ),
            ));
        }
    }
    None
}

/// The fields of upstream's internal `JSONSchemaProps` that hold something other than Go's zero
/// value, in the order of its struct.
fn go_fields_set(s: &JSONSchemaProps) -> Vec<&'static str> {
    [
        ("ID", !text(&s.id).is_empty()),
        ("Schema", !text(&s.schema).is_empty()),
        ("Ref", s.ref_path.is_some()),
        ("Description", !text(&s.description).is_empty()),
        ("Type", !ty(s).is_empty()),
        ("Nullable", flag(s.nullable)),
        ("Format", !text(&s.format).is_empty()),
        ("Title", !text(&s.title).is_empty()),
        ("Default", s.default.is_some()),
        ("Maximum", s.maximum.is_some()),
        ("ExclusiveMaximum", flag(s.exclusive_maximum)),
        ("Minimum", s.minimum.is_some()),
        ("ExclusiveMinimum", flag(s.exclusive_minimum)),
        ("MaxLength", s.max_length.is_some()),
        ("MinLength", s.min_length.is_some()),
        ("Pattern", !text(&s.pattern).is_empty()),
        ("MaxItems", s.max_items.is_some()),
        ("MinItems", s.min_items.is_some()),
        ("UniqueItems", flag(s.unique_items)),
        ("MultipleOf", s.multiple_of.is_some()),
        ("Enum", s.enum_.is_some()),
        ("MaxProperties", s.max_properties.is_some()),
        ("MinProperties", s.min_properties.is_some()),
        ("Required", s.required.is_some()),
        ("Items", s.items.is_some()),
        ("AllOf", s.all_of.is_some()),
        ("OneOf", s.one_of.is_some()),
        ("AnyOf", s.any_of.is_some()),
        ("Not", s.not.is_some()),
        ("Properties", s.properties.is_some()),
        ("AdditionalProperties", s.additional_properties.is_some()),
        ("PatternProperties", s.pattern_properties.is_some()),
        ("Dependencies", s.dependencies.is_some()),
        ("AdditionalItems", s.additional_items.is_some()),
        ("Definitions", s.definitions.is_some()),
        ("ExternalDocs", s.external_docs.is_some()),
        ("Example", s.example.is_some()),
        (
            "XPreserveUnknownFields",
            s.x_kubernetes_preserve_unknown_fields.is_some(),
        ),
        ("XEmbeddedResource", embedded(s)),
        ("XIntOrString", int_or_string(s)),
        ("XListMapKeys", s.x_kubernetes_list_map_keys.is_some()),
        ("XListType", s.x_kubernetes_list_type.is_some()),
        ("XMapType", s.x_kubernetes_map_type.is_some()),
        ("XValidations", s.x_kubernetes_validations.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect()
}

/// The fields a node of upstream's structural form of the schema holds; `nested` for the nodes
/// under `allOf`, `anyOf`, `oneOf` and `not`, which keep some of them differently.
fn structural_fields_set(s: &JSONSchemaProps, nested: bool) -> Vec<&'static str> {
    let properties = if nested {
        s.properties.is_some()
    } else {
        s.properties.as_ref().is_some_and(|p| !p.is_empty())
    };
    let additional = if nested {
        matches!(
            s.additional_properties,
            Some(JSONSchemaPropsOrBool::Schema(_) | JSONSchemaPropsOrBool::Bool(true))
        )
    } else {
        s.additional_properties.is_some()
    };
    [
        ("Type", !ty(s).is_empty()),
        ("Description", !text(&s.description).is_empty()),
        ("Title", !text(&s.title).is_empty()),
        ("Default", s.default.is_some()),
        ("Nullable", flag(s.nullable)),
        ("ExternalDocs", s.external_docs.is_some()),
        ("Example", s.example.is_some()),
        ("XPreserveUnknownFields", preserves(s)),
        ("XEmbeddedResource", embedded(s)),
        ("XIntOrString", int_or_string(s)),
        ("XListMapKeys", s.x_kubernetes_list_map_keys.is_some()),
        ("XListType", s.x_kubernetes_list_type.is_some()),
        ("XMapType", s.x_kubernetes_map_type.is_some()),
        ("XValidations", s.x_kubernetes_validations.is_some()),
        ("Format", !text(&s.format).is_empty()),
        ("Maximum", s.maximum.is_some()),
        ("ExclusiveMaximum", flag(s.exclusive_maximum)),
        ("Minimum", s.minimum.is_some()),
        ("ExclusiveMinimum", flag(s.exclusive_minimum)),
        ("MaxLength", s.max_length.is_some()),
        ("MinLength", s.min_length.is_some()),
        ("Pattern", !text(&s.pattern).is_empty()),
        ("MaxItems", s.max_items.is_some()),
        ("MinItems", s.min_items.is_some()),
        ("UniqueItems", flag(s.unique_items)),
        ("MultipleOf", s.multiple_of.is_some()),
        ("Enum", non_empty(&s.enum_)),
        ("MaxProperties", s.max_properties.is_some()),
        ("MinProperties", s.min_properties.is_some()),
        ("Required", s.required.is_some()),
        ("AllOf", non_empty(&s.all_of)),
        ("OneOf", non_empty(&s.one_of)),
        ("AnyOf", non_empty(&s.any_of)),
        ("Not", s.not.is_some()),
        ("Items", items_schema(s).is_some()),
        ("Properties", properties),
        ("AdditionalProperties", additional),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect()
}

/// Why upstream cannot read the schema as structural at all (`NewStructural`'s error), for the
/// parts the rest of the validation has no rule of its own for.
fn structural_conversion_error(s: &JSONSchemaProps) -> Option<&'static str> {
    if !text(&s.id).is_empty() {
        return Some("OpenAPIV3Schema 'id' is not supported");
    }
    if !text(&s.schema).is_empty() {
        return Some("OpenAPIV3Schema 'schema' is not supported");
    }
    if !text(&s.ref_path).is_empty() {
        return Some("OpenAPIV3Schema '$ref' is not supported");
    }
    if s.pattern_properties.as_ref().is_some_and(|p| !p.is_empty()) {
        return Some("OpenAPIV3Schema 'patternProperties' is not supported");
    }
    if s.dependencies.as_ref().is_some_and(|d| !d.is_empty()) {
        return Some("OpenAPIV3Schema 'dependencies' is not supported");
    }
    if s.additional_items.is_some() {
        return Some("OpenAPIV3Schema 'additionalItems' is not supported");
    }
    if s.definitions.as_ref().is_some_and(|d| !d.is_empty()) {
        return Some("OpenAPIV3Schema 'definitions' is not supported");
    }
    let junctors = s
        .not
        .as_deref()
        .into_iter()
        .chain(opt_slice(&s.all_of))
        .chain(opt_slice(&s.any_of))
        .chain(opt_slice(&s.one_of));
    for junctor in junctors {
        if let Some(err) = structural_conversion_error(junctor) {
            return Some(err);
        }
    }
    if s.x_kubernetes_preserve_unknown_fields == Some(false) {
        return Some(
            "internal error: 'x-kubernetes-preserve-unknown-fields' must be true or undefined",
        );
    }
    match &s.items {
        Some(JSONSchemaPropsOrArray::Schemas(items)) if !items.is_empty() => {
            return Some("OpenAPIV3Schema 'items' must be a schema, but is an array");
        }
        Some(JSONSchemaPropsOrArray::Schema(item)) => {
            if let Some(err) = structural_conversion_error(item) {
                return Some(err);
            }
        }
        _ => {}
    }
    props(s)
        .map(|(_, p)| p)
        .chain(additional_schema(s))
        .find_map(structural_conversion_error)
}

/// Upstream's `ValidateStructural`, whose errors come sorted by their text.
fn structural_errors(schema: &JSONSchemaProps, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    invariants(schema, Level::Root, path, &mut errs);
    completeness(schema, path, &mut errs);
    errs.sort_by_cached_key(|e| e.to_string());
    errs
}

/// Where a node of the structural schema sits.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Root,
    Item,
    Field,
}

/// Every node says what it is (a type, unless it is an int-or-string or keeps anything), the
/// root is an object, and the metadata of the resource is the API server's.
fn invariants(s: &JSONSchemaProps, level: Level, path: &Path, errs: &mut ErrorList) {
    let t = ty(s);
    if t == "array" && items_schema(s).is_none() {
        errs.push(FieldError::required(
            &path.child("items"),
            "must be specified",
        ));
    }
    if let Some(items) = items_schema(s) {
        invariants(items, Level::Item, &path.child("items"), errs);
    }
    for (key, property) in props(s) {
        invariants(
            property,
            Level::Field,
            &path.child("properties").key(key),
            errs,
        );
    }
    if let Some(additional) = &s.additional_properties {
        if level == Level::Root {
            errs.push(FieldError::forbidden(
                &path.child("additionalProperties"),
                "must not be used at the root",
            ));
        }
        if let JSONSchemaPropsOrBool::Schema(schema) = additional {
            invariants(
                schema,
                Level::Field,
                &path.child("additionalProperties"),
                errs,
            );
        }
    }
    if int_or_string(s) && preserves(s) {
        errs.push(FieldError::invalid(
            &path.child("x-kubernetes-preserve-unknown-fields"),
            true,
            "must be false if x-kubernetes-int-or-string is true",
        ));
    }
    if int_or_string(s) && embedded(s) {
        errs.push(FieldError::invalid(
            &path.child("x-kubernetes-embedded-resource"),
            true,
            "must be false if x-kubernetes-int-or-string is true",
        ));
    }
    value_validation(
        s,
        is_int_or_string_any_of(s),
        is_int_or_string_all_of(s),
        path,
        errs,
    );
    let check_metadata = level == Level::Root || embedded(s);
    let type_path = path.child("type");
    if embedded(s) && t != "object" {
        let detail = "must be object if x-kubernetes-embedded-resource is true";
        errs.push(if t.is_empty() {
            FieldError::required(&type_path, detail)
        } else {
            FieldError::invalid(&type_path, t, detail)
        });
    } else if t.is_empty() && !int_or_string(s) && !preserves(s) {
        let detail = match level {
            Level::Root => "must not be empty at the root",
            Level::Item => "must not be empty for specified array items",
            Level::Field => "must not be empty for specified object fields",
        };
        errs.push(FieldError::required(&type_path, detail));
    }
    if embedded(s) && s.additional_properties.is_some() {
        errs.push(FieldError::forbidden(
            &path.child("additionalProperties"),
            "must not be used if x-kubernetes-embedded-resource is set",
        ));
    }
    if level == Level::Root && !t.is_empty() && t != "object" {
        errs.push(FieldError::invalid(
            &type_path,
            t,
            "must be object at the root",
        ));
    }
    if check_metadata {
        for key in ["kind", "apiVersion"] {
            if let Some(property) = prop(s, key)
                && ty(property) != "string"
            {
                errs.push(FieldError::invalid(
                    &path.child("properties").key(key).child("type"),
                    ty(property),
                    "must be string",
                ));
            }
        }
    }
    if let Some(metadata) = prop(s, "metadata") {
        let metadata_path = path.child("properties").key("metadata");
        if check_metadata && ty(metadata) != "object" {
            errs.push(FieldError::invalid(
                &metadata_path.child("type"),
                ty(metadata),
                "must be object",
            ));
        }
        if level == Level::Root && !only_names(metadata) {
            errs.push(FieldError::forbidden(
                &metadata_path,
                "must not specify anything other than name and generateName, but metadata is implicitly specified",
            ));
        }
    }
    if embedded(s) && !preserves(s) && props(s).next().is_none() {
        errs.push(FieldError::required(
            &path.child("properties"),
            "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields",
        ));
    }
}

/// Whether the root's `metadata` restricts at most `name` and `generateName` (besides its type
/// and a default, which other rules handle).
fn only_names(metadata: &JSONSchemaProps) -> bool {
    let names_only = metadata.properties.as_ref().is_some_and(|p| {
        !p.is_empty() && p.len() <= 2 && p.keys().all(|k| k == "name" || k == "generateName")
    });
    structural_fields_set(metadata, false)
        .into_iter()
        .all(|f| matches!(f, "Type" | "Default") || (f == "Properties" && names_only))
}

/// Whether `s` is exactly `{type: <name>}` as a node under a junctor.
fn is_bare_type(s: &JSONSchemaProps, name: &str) -> bool {
    ty(s) == name && structural_fields_set(s, true) == ["Type"]
}

/// `anyOf: [{type: integer}, {type: string}]`, the one place a junctor may name types.
fn is_int_or_string_pair(any_of: &Option<Vec<JSONSchemaProps>>) -> bool {
    matches!(
        opt_slice(any_of),
        [first, second] if is_bare_type(first, "integer") && is_bare_type(second, "string")
    )
}

fn is_int_or_string_any_of(s: &JSONSchemaProps) -> bool {
    is_int_or_string_pair(&s.any_of)
}

fn is_int_or_string_all_of(s: &JSONSchemaProps) -> bool {
    opt_slice(&s.all_of)
        .first()
        .is_some_and(|first| is_int_or_string_pair(&first.any_of))
}

/// The junctors of a node; what they hold may only further restrict values.
fn value_validation(
    s: &JSONSchemaProps,
    skip_any_of: bool,
    skip_first_all_of_any_of: bool,
    path: &Path,
    errs: &mut ErrorList,
) {
    if !skip_any_of {
        for (i, x) in opt_slice(&s.any_of).iter().enumerate() {
            nested(x, false, &path.child("anyOf").index(i), errs);
        }
    }
    for (i, x) in opt_slice(&s.all_of).iter().enumerate() {
        nested(
            x,
            skip_first_all_of_any_of && i == 0,
            &path.child("allOf").index(i),
            errs,
        );
    }
    for (i, x) in opt_slice(&s.one_of).iter().enumerate() {
        nested(x, false, &path.child("oneOf").index(i), errs);
    }
    if let Some(not) = &s.not {
        nested(not, false, &path.child("not"), errs);
    }
}

/// A node under a junctor: value validations only, no types, descriptions or extensions.
fn nested(v: &JSONSchemaProps, skip_any_of: bool, path: &Path, errs: &mut ErrorList) {
    value_validation(v, skip_any_of, false, path, errs);
    if let Some(items) = items_schema(v) {
        nested(items, false, &path.child("items"), errs);
    }
    for (key, property) in props(v) {
        nested(property, false, &path.child("properties").key(key), errs);
    }
    let forbidden: [(&str, bool, &str); 13] = [
        ("type", !ty(v).is_empty(), "must be empty to be structural"),
        (
            "additionalProperties",
            matches!(
                v.additional_properties,
                Some(JSONSchemaPropsOrBool::Schema(_) | JSONSchemaPropsOrBool::Bool(true))
            ),
            "must be undefined to be structural",
        ),
        (
            "default",
            v.default.is_some(),
            "must be undefined to be structural",
        ),
        (
            "title",
            !text(&v.title).is_empty(),
            "must be empty to be structural",
        ),
        (
            "description",
            !text(&v.description).is_empty(),
            "must be empty to be structural",
        ),
        (
            "nullable",
            flag(v.nullable),
            "must be false to be structural",
        ),
        (
            "x-kubernetes-preserve-unknown-fields",
            preserves(v),
            "must be false to be structural",
        ),
        (
            "x-kubernetes-embedded-resource",
            embedded(v),
            "must be false to be structural",
        ),
        (
            "x-kubernetes-int-or-string",
            int_or_string(v),
            "must be false to be structural",
        ),
        (
            "x-kubernetes-list-map-keys",
            non_empty(&v.x_kubernetes_list_map_keys),
            "must be empty to be structural",
        ),
        (
            "x-kubernetes-list-type",
            v.x_kubernetes_list_type.is_some(),
            "must be undefined to be structural",
        ),
        (
            "x-kubernetes-map-type",
            v.x_kubernetes_map_type.is_some(),
            "must be undefined to be structural",
        ),
        (
            "x-kubernetes-validations",
            non_empty(&v.x_kubernetes_validations),
            "must be empty to be structural",
        ),
    ];
    for (field, set, detail) in forbidden {
        if set {
            errs.push(FieldError::forbidden(&path.child(field), detail));
        }
    }
    if prop(v, "metadata").is_some() {
        errs.push(FieldError::forbidden(
            &path.child("properties").key("metadata"),
            "must not be specified in a nested context",
        ));
    }
}

/// Every value validation of the root's junctors applies to a field the schema itself defines.
fn completeness(root: &JSONSchemaProps, path: &Path, errs: &mut ErrorList) {
    junctor_completeness(root, root, path, path, errs);
}

fn junctor_completeness(
    v: &JSONSchemaProps,
    s: &JSONSchemaProps,
    s_path: &Path,
    v_path: &Path,
    errs: &mut ErrorList,
) {
    if let Some(not) = &v.not {
        nested_completeness(not, Some(s), s_path, &v_path.child("not"), errs);
    }
    for (name, list) in [
        ("allOf", &v.all_of),
        ("anyOf", &v.any_of),
        ("oneOf", &v.one_of),
    ] {
        for (i, x) in opt_slice(list).iter().enumerate() {
            nested_completeness(x, Some(s), s_path, &v_path.child(name).index(i), errs);
        }
    }
}

fn nested_completeness(
    v: &JSONSchemaProps,
    s: Option<&JSONSchemaProps>,
    s_path: &Path,
    v_path: &Path,
    errs: &mut ErrorList,
) {
    let Some(s) = s else {
        errs.push(FieldError::required(
            s_path,
            format!("because it is defined in {v_path}"),
        ));
        return;
    };
    junctor_completeness(v, s, s_path, v_path, errs);
    if let Some(items) = items_schema(v) {
        nested_completeness(
            items,
            items_schema(s),
            &s_path.child("items"),
            &v_path.child("items"),
            errs,
        );
    }
    for (key, property) in props(v) {
        let s_property_path = s_path.child("properties").key(key);
        let v_property_path = v_path.child("properties").key(key);
        match prop(s, key) {
            Some(s_property) => nested_completeness(
                property,
                Some(s_property),
                &s_property_path,
                &v_property_path,
                errs,
            ),
            None => errs.push(FieldError::required(
                &s_property_path,
                format!("because it is defined in {v_property_path}"),
            )),
        }
    }
}

/// Defaults must not carry fields that pruning would drop (upstream's `ValidateDefaults`, whose
/// check of the values against the schema is not done here). Defaults inside an object's
/// metadata are the API server's to check.
fn default_errors(root: &JSONSchemaProps, path: &Path, require_pruned: bool, errs: &mut ErrorList) {
    if require_pruned {
        default_walk(root, path, true, false, errs);
    }
}

fn default_walk(
    s: &JSONSchemaProps,
    path: &Path,
    resource_root: bool,
    inside_meta: bool,
    errs: &mut ErrorList,
) {
    let is_embedded = resource_root || embedded(s);
    let inside_meta = inside_meta && !is_embedded;
    if let Some(default) = &s.default
        && !inside_meta
    {
        let mut pruned = default.0.clone();
        prune(&mut pruned, Some(s), is_embedded);
        if pruned != default.0 {
            errs.push(FieldError::invalid(
                &path.child("default"),
                Rendered(go_json(&default.0)),
                "must not have unknown fields",
            ));
        }
    }
    if let Some(items) = items_schema(s) {
        default_walk(items, &path.child("items"), false, inside_meta, errs);
    }
    for (key, property) in props(s) {
        let meta = inside_meta || (is_embedded && META_FIELDS.contains(&key.as_str()));
        default_walk(
            property,
            &path.child("properties").key(key),
            false,
            meta,
            errs,
        );
    }
}

/// Upstream's pruning: drops the fields of `x` that `s` does not know, keeping the metadata of
/// an embedded resource (or of the resource itself, `resource_root`).
fn prune(x: &mut Value, s: Option<&JSONSchemaProps>, resource_root: bool) {
    if let Some(s) = s
        && preserves(s)
    {
        skip_prune(x, s, resource_root);
        return;
    }
    match x {
        Value::Object(map) => {
            let Some(s) = s else {
                map.clear();
                return;
            };
            let is_embedded = resource_root || embedded(s);
            let keys: Vec<String> = map.keys().cloned().collect();
            for key in keys {
                if is_embedded && META_FIELDS.contains(&key.as_str()) {
                    continue;
                }
                let known = prop(s, &key).map(Some).or_else(|| {
                    s.additional_properties
                        .is_some()
                        .then(|| additional_schema(s))
                });
                match known {
                    Some(child) => {
                        if let Some(value) = map.get_mut(&key) {
                            prune(value, child, false);
                        }
                    }
                    None => {
                        map.remove(&key);
                    }
                }
            }
        }
        Value::Array(items) => {
            let item_schema = s.and_then(items_schema);
            for item in items {
                prune(item, item_schema, false);
            }
        }
        _ => {}
    }
}

/// Pruning below a node that keeps unknown fields: only what the node describes is pruned.
fn skip_prune(x: &mut Value, s: &JSONSchemaProps, resource_root: bool) {
    match x {
        Value::Object(map) => {
            let is_embedded = resource_root || embedded(s);
            for (key, value) in map.iter_mut() {
                if is_embedded && META_FIELDS.contains(&key.as_str()) {
                    continue;
                }
                if let Some(property) = prop(s, key) {
                    prune(value, Some(property), false);
                } else if s.additional_properties.is_some() {
                    prune(value, additional_schema(s), false);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = items_schema(s) {
                for item in items {
                    skip_prune(item, item_schema, false);
                }
            }
        }
        _ => {}
    }
}

/// What upstream's OpenAPI rules allow at one node of the walk.
#[derive(Clone)]
struct SchemaRules {
    allow_defaults: bool,
    disallow_defaults_reason: String,
    inside_resource_meta: bool,
    require_valid_property_type: bool,
}

impl SchemaRules {
    fn forbidding_defaults(&self, reason: String) -> Self {
        Self {
            allow_defaults: false,
            disallow_defaults_reason: reason,
            ..self.clone()
        }
    }

    fn inside_meta(&self) -> Self {
        Self {
            inside_resource_meta: true,
            ..self.clone()
        }
    }
}

/// Upstream's `ValidateCustomResourceDefinitionOpenAPISchema`, without the CEL rules: what
/// OpenAPI features a schema may use and how the list and map extensions fit together.
fn open_api_schema(
    s: &JSONSchemaProps,
    path: &Path,
    rules: &SchemaRules,
    is_root: bool,
    options: Options,
    errs: &mut ErrorList,
) {
    supported_features(s, path, rules, errs);
    if flag(s.unique_items) {
        errs.push(FieldError::forbidden(
            &path.child("uniqueItems"),
            "uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
        ));
    }
    // Properties describe structs and additionalProperties maps; an object is one or the other.
    if let Some(additional) = &s.additional_properties {
        let has_properties = s.properties.as_ref().is_some_and(|p| !p.is_empty());
        if has_properties && !matches!(additional, JSONSchemaPropsOrBool::Bool(true)) {
            errs.push(FieldError::forbidden(
                &path.child("additionalProperties"),
                "additionalProperties and properties are mutual exclusive",
            ));
        }
        if let JSONSchemaPropsOrBool::Schema(schema) = additional {
            let sub = if rules.inside_resource_meta {
                rules.forbidding_defaults(
                    "inside additionalProperties applying to object metadata".to_string(),
                )
            } else {
                rules.clone()
            };
            open_api_schema(
                schema,
                &path.child("additionalProperties"),
                &sub,
                false,
                options,
                errs,
            );
        }
    }
    for (key, property) in props(s) {
        let mut sub = rules.clone();
        if (is_root || embedded(s)) && META_FIELDS.contains(&key.as_str()) {
            sub = sub.inside_meta();
            if is_root {
                sub = sub.forbidding_defaults(format!("in top-level {key}"));
            }
        }
        open_api_schema(
            property,
            &path.child("properties").key(key),
            &sub,
            false,
            options,
            errs,
        );
    }
    if let Some(not) = &s.not {
        open_api_schema(not, &path.child("not"), rules, false, options, errs);
    }
    for (name, list) in [
        ("allOf", &s.all_of),
        ("oneOf", &s.one_of),
        ("anyOf", &s.any_of),
    ] {
        for (i, x) in opt_slice(list).iter().enumerate() {
            open_api_schema(x, &path.child(name).index(i), rules, false, options, errs);
        }
    }
    for (key, definition) in s.definitions.iter().flatten() {
        open_api_schema(
            definition,
            &path.child("definitions").key(key),
            rules,
            false,
            options,
            errs,
        );
    }
    match &s.items {
        Some(JSONSchemaPropsOrArray::Schema(item)) => {
            open_api_schema(item, &path.child("items"), rules, false, options, errs);
        }
        Some(JSONSchemaPropsOrArray::Schemas(items)) => {
            for (i, item) in items.iter().enumerate() {
                open_api_schema(
                    item,
                    &path.child("items").index(i),
                    rules,
                    false,
                    options,
                    errs,
                );
            }
        }
        None => {}
    }
    for (key, dependency) in s.dependencies.iter().flatten() {
        if let JSONSchemaPropsOrStringArray::Schema(schema) = dependency {
            open_api_schema(
                schema,
                &path.child("dependencies").key(key),
                rules,
                false,
                options,
                errs,
            );
        }
    }
    if s.x_kubernetes_preserve_unknown_fields == Some(false) {
        errs.push(FieldError::invalid(
            &path.child("x-kubernetes-preserve-unknown-fields"),
            false,
            "must be true or undefined",
        ));
    }
    list_and_map_types(s, path, options, errs);
}

/// The OpenAPI features CRD schemas do not support, and defaults where they are not allowed.
fn supported_features(s: &JSONSchemaProps, path: &Path, rules: &SchemaRules, errs: &mut ErrorList) {
    let t = ty(s);
    if rules.require_valid_property_type && !t.is_empty() && !OPENAPI_TYPES.contains(&t) {
        errs.push(FieldError::not_supported(
            &path.child("type"),
            t,
            &OPENAPI_TYPES,
        ));
    }
    if s.default.is_some() && !rules.allow_defaults {
        let mut detail = "must not be set".to_string();
        if !rules.disallow_defaults_reason.is_empty() {
            detail.push(' ');
            detail.push_str(&rules.disallow_defaults_reason);
        }
        errs.push(FieldError::forbidden(&path.child("default"), detail));
    }
    let unsupported: [(&str, bool, &str); 6] = [
        ("id", !text(&s.id).is_empty(), "id is not supported"),
        (
            "additionalItems",
            s.additional_items.is_some(),
            "additionalItems is not supported",
        ),
        (
            "patternProperties",
            s.pattern_properties.as_ref().is_some_and(|p| !p.is_empty()),
            "patternProperties is not supported",
        ),
        (
            "definitions",
            s.definitions.as_ref().is_some_and(|d| !d.is_empty()),
            "definitions is not supported",
        ),
        (
            "dependencies",
            s.dependencies.is_some(),
            "dependencies is not supported",
        ),
        ("$ref", s.ref_path.is_some(), "$ref is not supported"),
    ];
    for (field, set, detail) in unsupported {
        if set {
            errs.push(FieldError::forbidden(&path.child(field), detail));
        }
    }
    if t == "null" {
        errs.push(FieldError::forbidden(
            &path.child("type"),
            "type cannot be set to null, use nullable as an alternative",
        ));
    }
    if let Some(JSONSchemaPropsOrArray::Schemas(items)) = &s.items
        && !items.is_empty()
    {
        errs.push(FieldError::forbidden(
            &path.child("items"),
            "items must be a schema object and not an array",
        ));
    }
    if rules.inside_resource_meta && embedded(s) {
        errs.push(FieldError::forbidden(
            &path.child("x-kubernetes-embedded-resource"),
            "must not be used inside of resource meta",
        ));
    }
}

/// `x-kubernetes-map-type` belongs on objects and `x-kubernetes-list-type` on arrays; a map list
/// names scalar, always-present keys of its object items, and a set holds atomic items.
fn list_and_map_types(s: &JSONSchemaProps, path: &Path, options: Options, errs: &mut ErrorList) {
    let t = ty(s);
    let type_path = path.child("type");
    let type_error = |detail: &str| {
        if t.is_empty() {
            FieldError::required(&type_path, detail)
        } else {
            FieldError::invalid(&type_path, t, detail)
        }
    };
    let map_type = s.x_kubernetes_map_type.as_deref();
    if map_type.is_some() && t != "object" {
        errs.push(type_error(
            "must be object if x-kubernetes-map-type is specified",
        ));
    }
    if let Some(map_type) = map_type
        && !matches!(map_type, "atomic" | "granular")
    {
        errs.push(FieldError::not_supported(
            &path.child("x-kubernetes-map-type"),
            map_type,
            &["atomic", "granular"],
        ));
    }
    let list_type = s.x_kubernetes_list_type.as_deref();
    let set_item_detail = "must be atomic as item of a list with x-kubernetes-list-type=set";
    if list_type.is_some() && t != "array" {
        errs.push(type_error(
            "must be array if x-kubernetes-list-type is specified",
        ));
    } else if options.require_atomic_set_type
        && list_type == Some("set")
        && let Some(item) = items_schema(s)
    {
        let items_path = path.child("items");
        match ty(item) {
            "array"
                if item
                    .x_kubernetes_list_type
                    .as_deref()
                    .is_some_and(|t| t != "atomic") =>
            {
                errs.push(FieldError::invalid(
                    &items_path.child("x-kubernetes-list-type"),
                    &item.x_kubernetes_list_type,
                    set_item_detail,
                ));
            }
            // Upstream reports the item's list type here, though the map type is wrong.
            "object" if item.x_kubernetes_map_type.as_deref() != Some("atomic") => {
                errs.push(FieldError::invalid(
                    &items_path.child("x-kubernetes-map-type"),
                    &item.x_kubernetes_list_type,
                    set_item_detail,
                ));
            }
            _ => {}
        }
    }
    if let Some(list_type) = list_type
        && !matches!(list_type, "atomic" | "set" | "map")
    {
        errs.push(FieldError::not_supported(
            &path.child("x-kubernetes-list-type"),
            list_type,
            &["atomic", "set", "map"],
        ));
    }
    let keys = opt_slice(&s.x_kubernetes_list_map_keys);
    let list_type_path = path.child("x-kubernetes-list-type");
    let keys_path = path.child("x-kubernetes-list-map-keys");
    if !keys.is_empty() {
        let detail = "must be map if x-kubernetes-list-map-keys is non-empty";
        match list_type {
            None => errs.push(FieldError::required(&list_type_path, detail)),
            Some(list_type) if list_type != "map" => {
                errs.push(FieldError::invalid(&list_type_path, list_type, detail));
            }
            Some(_) => {}
        }
    }
    if list_type == Some("map") {
        if keys.is_empty() {
            errs.push(FieldError::required(
                &keys_path,
                "must not be empty if x-kubernetes-list-type is map",
            ));
        }
        let items_path = path.child("items");
        match &s.items {
            None => errs.push(FieldError::required(
                &items_path,
                "must have a schema if x-kubernetes-list-type is map",
            )),
            Some(JSONSchemaPropsOrArray::Schemas(items)) => errs.push(FieldError::invalid(
                &items_path,
                Rendered(go_items_array(items)),
                "must only have a single schema if x-kubernetes-list-type is map",
            )),
            Some(JSONSchemaPropsOrArray::Schema(item)) if ty(item) != "object" => {
                errs.push(FieldError::invalid(
                    &items_path.child("type"),
                    ty(item),
                    "must be object if parent array's x-kubernetes-list-type is map",
                ));
            }
            Some(JSONSchemaPropsOrArray::Schema(item)) => {
                let mut seen = HashSet::new();
                for key in keys {
                    match prop(item, key) {
                        // Upstream reports the item's type here, not the key's.
                        Some(property) if matches!(ty(property), "array" | "object") => {
                            errs.push(FieldError::invalid(
                                &items_path.child("properties").key(key).child("type"),
                                ty(item),
                                "must be a scalar type if parent array's x-kubernetes-list-type is map",
                            ));
                        }
                        Some(_) => {}
                        None => errs.push(FieldError::invalid(
                            &keys_path,
                            go::strings(Some(keys)),
                            "entries must all be names of item properties",
                        )),
                    }
                    if !seen.insert(key.as_str()) {
                        errs.push(FieldError::invalid(
                            &keys_path,
                            go::strings(Some(keys)),
                            "must not contain duplicate entries",
                        ));
                    }
                }
            }
        }
    }
    if options.require_map_list_keys_map_set_validation {
        errs.extend(map_list_keys_map_set(s, path));
    }
}

/// The items of sets and map lists are never null, and the keys of a map list are always there:
/// required or defaulted, and not nullable.
fn map_list_keys_map_set(s: &JSONSchemaProps, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let (Some(item), Some(list_type)) = (items_schema(s), s.x_kubernetes_list_type.as_deref())
    else {
        return errs;
    };
    if !matches!(list_type, "set" | "map") {
        return errs;
    }
    let items_path = path.child("items");
    if flag(item.nullable) {
        errs.push(FieldError::forbidden(
            &items_path.child("nullable"),
            format!("cannot be nullable when x-kubernetes-list-type is {list_type}"),
        ));
    }
    if list_type == "map" {
        let required = opt_slice(&item.required);
        for key in opt_slice(&s.x_kubernetes_list_map_keys) {
            let Some(property) = prop(item, key) else {
                continue;
            };
            let key_path = items_path.child("properties").key(key);
            if !required.contains(key) && property.default.is_none() {
                errs.push(FieldError::required(
                    &key_path.child("default"),
                    "this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property",
                ));
            }
            if flag(property.nullable) {
                errs.push(FieldError::forbidden(
                    &key_path.child("nullable"),
                    "this property is in x-kubernetes-list-map-keys, so it cannot be nullable",
                ));
            }
        }
    }
    errs
}

// ---- Values as upstream prints them (Go's `%#v` of its internal types) ----

/// The versions as upstream's internal form holds them, the shared fields moved out.
fn go_versions(versions: &[CustomResourceDefinitionVersion], layout: Layout) -> Rendered {
    let items = (!versions.is_empty()).then(|| versions.iter().map(|v| go_version(v, layout)));
    go::slice("apiextensions.CustomResourceDefinitionVersion", items)
}

fn go_version(v: &CustomResourceDefinitionVersion, layout: Layout) -> String {
    let columns = if layout.columns {
        None
    } else {
        v.additional_printer_columns.as_ref()
    };
    let fields = if layout.selectable_fields {
        None
    } else {
        v.selectable_fields.as_ref()
    };
    let selectable = |f: &SelectableField| {
        format!(
            "apiextensions.SelectableField{{JSONPath:{}}}",
            go::quote(&f.json_path)
        )
    };
    format!(
        "apiextensions.CustomResourceDefinitionVersion{{Name:{}, Served:{}, Storage:{}, Deprecated:{}, DeprecationWarning:{}, Schema:{}, Subresources:{}, AdditionalPrinterColumns:{}, SelectableFields:{}}}",
        go::quote(&v.name),
        v.served,
        v.storage,
        flag(v.deprecated),
        go::pointer("string", v.deprecation_warning.is_some()),
        go::pointer(
            "apiextensions.CustomResourceValidation",
            !layout.schema && v.schema.is_some()
        ),
        go::pointer(
            "apiextensions.CustomResourceSubresources",
            !layout.subresources && v.subresources.is_some()
        ),
        go::slice(
            "apiextensions.CustomResourceColumnDefinition",
            columns.map(|c| c.iter().map(go_column))
        )
        .0,
        go::slice(
            "apiextensions.SelectableField",
            fields.map(|f| f.iter().map(selectable))
        )
        .0,
    )
}

fn go_column(c: &CustomResourceColumnDefinition) -> String {
    format!(
        "apiextensions.CustomResourceColumnDefinition{{Name:{}, Type:{}, Format:{}, Description:{}, Priority:{}, JSONPath:{}}}",
        go::quote(&c.name),
        go::quote(&c.type_),
        go::quote(text(&c.format)),
        go::quote(text(&c.description)),
        c.priority.unwrap_or(0),
        go::quote(&c.json_path),
    )
}

/// `%#v` of a map whose values are already rendered; Go prints the keys sorted.
fn go_map<'a>(
    type_name: &str,
    entries: Option<impl Iterator<Item = (&'a String, String)>>,
) -> String {
    match entries {
        None => format!("{type_name}(nil)"),
        Some(entries) => {
            let entries: Vec<String> = entries
                .map(|(k, v)| format!("{}:{v}", go::quote(k)))
                .collect();
            format!("{type_name}{{{}}}", entries.join(", "))
        }
    }
}

/// `%#v` of upstream's internal `JSONSchemaProps`; pointers print a stand-in address.
fn go_schema(s: &JSONSchemaProps) -> String {
    let string = |v: &Option<String>| go::quote(text(v));
    let boolean = |v: Option<bool>| flag(v).to_string();
    let schemas = |v: &Option<Vec<JSONSchemaProps>>| {
        go::slice(
            "apiextensions.JSONSchemaProps",
            v.as_ref().map(|v| v.iter().map(go_schema)),
        )
        .0
    };
    let schema_map = |type_name: &str, v: &Option<BTreeMap<String, JSONSchemaProps>>| {
        go_map(
            type_name,
            v.as_ref().map(|m| m.iter().map(|(k, s)| (k, go_schema(s)))),
        )
    };
    let enum_values = s.enum_.as_ref().map(|values| {
        values.iter().map(|v| match &v.0 {
            Value::Null => "apiextensions.JSON(nil)".to_string(),
            other => go_json(other),
        })
    });
    let dependencies = s.dependencies.as_ref().map(|d| {
        d.iter().map(|(k, dependency)| {
            let (schema, property) = match dependency {
                JSONSchemaPropsOrStringArray::Schema(_) => (true, None),
                JSONSchemaPropsOrStringArray::Strings(strings) => (false, Some(strings.as_slice())),
            };
            let rendered = format!(
                "apiextensions.JSONSchemaPropsOrStringArray{{Schema:{}, Property:{}}}",
                go::pointer("apiextensions.JSONSchemaProps", schema),
                go::strings(property).0
            );
            (k, rendered)
        })
    });
    let validations = match &s.x_kubernetes_validations {
        None => "apiextensions.ValidationRules(nil)".to_string(),
        Some(rules) => {
            let rules: Vec<String> = rules.iter().map(go_rule).collect();
            format!("apiextensions.ValidationRules{{{}}}", rules.join(", "))
        }
    };
    let fields = vec![
        ("ID", string(&s.id)),
        ("Schema", string(&s.schema)),
        ("Ref", go::pointer("string", s.ref_path.is_some())),
        ("Description", string(&s.description)),
        ("Type", string(&s.type_)),
        ("Nullable", boolean(s.nullable)),
        ("Format", string(&s.format)),
        ("Title", string(&s.title)),
        (
            "Default",
            go::pointer("apiextensions.JSON", s.default.is_some()),
        ),
        ("Maximum", go::pointer("float64", s.maximum.is_some())),
        ("ExclusiveMaximum", boolean(s.exclusive_maximum)),
        ("Minimum", go::pointer("float64", s.minimum.is_some())),
        ("ExclusiveMinimum", boolean(s.exclusive_minimum)),
        ("MaxLength", go::pointer("int64", s.max_length.is_some())),
        ("MinLength", go::pointer("int64", s.min_length.is_some())),
        ("Pattern", string(&s.pattern)),
        ("MaxItems", go::pointer("int64", s.max_items.is_some())),
        ("MinItems", go::pointer("int64", s.min_items.is_some())),
        ("UniqueItems", boolean(s.unique_items)),
        (
            "MultipleOf",
            go::pointer("float64", s.multiple_of.is_some()),
        ),
        ("Enum", go::slice("apiextensions.JSON", enum_values).0),
        (
            "MaxProperties",
            go::pointer("int64", s.max_properties.is_some()),
        ),
        (
            "MinProperties",
            go::pointer("int64", s.min_properties.is_some()),
        ),
        ("Required", go::strings(s.required.as_deref()).0),
        (
            "Items",
            go::pointer("apiextensions.JSONSchemaPropsOrArray", s.items.is_some()),
        ),
        ("AllOf", schemas(&s.all_of)),
        ("OneOf", schemas(&s.one_of)),
        ("AnyOf", schemas(&s.any_of)),
        (
            "Not",
            go::pointer("apiextensions.JSONSchemaProps", s.not.is_some()),
        ),
        (
            "Properties",
            schema_map("map[string]apiextensions.JSONSchemaProps", &s.properties),
        ),
        (
            "AdditionalProperties",
            go::pointer(
                "apiextensions.JSONSchemaPropsOrBool",
                s.additional_properties.is_some(),
            ),
        ),
        (
            "PatternProperties",
            schema_map(
                "map[string]apiextensions.JSONSchemaProps",
                &s.pattern_properties,
            ),
        ),
        (
            "Dependencies",
            go_map("apiextensions.JSONSchemaDependencies", dependencies),
        ),
        (
            "AdditionalItems",
            go::pointer(
                "apiextensions.JSONSchemaPropsOrBool",
                s.additional_items.is_some(),
            ),
        ),
        (
            "Definitions",
            schema_map("apiextensions.JSONSchemaDefinitions", &s.definitions),
        ),
        (
            "ExternalDocs",
            go::pointer(
                "apiextensions.ExternalDocumentation",
                s.external_docs.is_some(),
            ),
        ),
        (
            "Example",
            go::pointer("apiextensions.JSON", s.example.is_some()),
        ),
        (
            "XPreserveUnknownFields",
            go::pointer("bool", s.x_kubernetes_preserve_unknown_fields.is_some()),
        ),
        (
            "XEmbeddedResource",
            boolean(s.x_kubernetes_embedded_resource),
        ),
        ("XIntOrString", boolean(s.x_kubernetes_int_or_string)),
        (
            "XListMapKeys",
            go::strings(s.x_kubernetes_list_map_keys.as_deref()).0,
        ),
        (
            "XListType",
            go::pointer("string", s.x_kubernetes_list_type.is_some()),
        ),
        (
            "XMapType",
            go::pointer("string", s.x_kubernetes_map_type.is_some()),
        ),
        ("XValidations", validations),
    ];
    let fields: Vec<String> = fields
        .into_iter()
        .map(|(name, value)| format!("{name}:{value}"))
        .collect();
    format!("apiextensions.JSONSchemaProps{{{}}}", fields.join(", "))
}

fn go_rule(rule: &ValidationRule) -> String {
    format!(
        "apiextensions.ValidationRule{{Rule:{}, Message:{}, MessageExpression:{}, Reason:{}, FieldPath:{}, OptionalOldSelf:{}}}",
        go::quote(&rule.rule),
        go::quote(text(&rule.message)),
        go::quote(text(&rule.message_expression)),
        go::pointer("apiextensions.FieldValueErrorReason", rule.reason.is_some()),
        go::quote(text(&rule.field_path)),
        go::pointer("bool", rule.optional_old_self.is_some()),
    )
}

/// `%#v` of an `items` that is a list of schemas.
fn go_items_array(items: &[JSONSchemaProps]) -> String {
    format!(
        "apiextensions.JSONSchemaPropsOrArray{{Schema:{}, JSONSchemas:{}}}",
        go::pointer("apiextensions.JSONSchemaProps", false),
        go::slice(
            "apiextensions.JSONSchemaProps",
            Some(items.iter().map(go_schema))
        )
        .0
    )
}

/// `%#v` of a decoded JSON value (`interface{}`), whose numbers are all `float64`.
fn go_json(value: &Value) -> String {
    match value {
        Value::Null => "interface {}(nil)".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => go_float(n.as_f64().unwrap_or_default()),
        Value::String(s) => go::quote(s),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(go_json).collect();
            format!("[]interface {{}}{{{}}}", items.join(", "))
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let entries: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{}", go::quote(k), go_json(v)))
                .collect();
            format!("map[string]interface {{}}{{{}}}", entries.join(", "))
        }
    }
}

/// Go's `%v` of a `float64`: the shortest digits, in exponent form below 1e-4 and from 1e6.
fn go_float(f: f64) -> String {
    if f == 0.0 {
        return "0".to_string();
    }
    let scientific = format!("{:e}", f.abs());
    let (mantissa, exponent) = scientific
        .split_once('e')
        .unwrap_or((scientific.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if f < 0.0 { "-" } else { "" };
    if !(-4..6).contains(&exponent) {
        let (first, rest) = digits.split_at(1);
        let point = if rest.is_empty() { "" } else { "." };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        return format!(
            "{sign}{first}{point}{rest}e{exponent_sign}{:02}",
            exponent.abs()
        );
    }
    let before_point = exponent + 1;
    if before_point <= 0 {
        let zeros = "0".repeat(before_point.unsigned_abs() as usize);
        return format!("{sign}0.{zeros}{digits}");
    }
    let before_point = before_point as usize;
    if before_point >= digits.len() {
        let zeros = "0".repeat(before_point - digits.len());
        format!("{sign}{digits}{zeros}")
    } else {
        let (whole, fraction) = digits.split_at(before_point);
        format!("{sign}{whole}.{fraction}")
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{messages, stored};
    use super::*;
    use serde_json::{Value, json};

    /// The CronTab example of the Kubernetes documentation, defaulted and prepared.
    fn crontab() -> Value {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "crontabs.stable.example.com"},
            "spec": {
                "group": "stable.example.com",
                "scope": "Namespaced",
                "names": {
                    "plural": "crontabs",
                    "singular": "crontab",
                    "kind": "CronTab",
                    "listKind": "CronTabList",
                    "shortNames": ["ct"],
                    "categories": ["all"]
                },
                "conversion": {"strategy": "None"},
                "versions": [{
                    "name": "v1",
                    "served": true,
                    "storage": true,
                    "schema": {"openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "properties": {
                                    "cronSpec": {"type": "string"},
                                    "image": {"type": "string"},
                                    "replicas": {"type": "integer", "default": 1}
                                }
                            },
                            "status": {
                                "type": "object",
                                "properties": {
                                    "replicas": {"type": "integer"},
                                    "labelSelector": {"type": "string"}
                                }
                            }
                        }
                    }},
                    "subresources": {
                        "status": {},
                        "scale": {
                            "specReplicasPath": ".spec.replicas",
                            "statusReplicasPath": ".status.replicas",
                            "labelSelectorPath": ".status.labelSelector"
                        }
                    },
                    "additionalPrinterColumns": [
                        {"name": "Spec", "type": "string", "jsonPath": ".spec.cronSpec"},
                        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
                    ]
                }]
            },
            "status": {
                "acceptedNames": {"plural": "", "kind": ""},
                "storedVersions": ["v1"]
            }
        })
    }

    fn definition(value: Value) -> CustomResourceDefinition {
        serde_json::from_value(value).expect("a CustomResourceDefinition")
    }

    fn check(value: Value) -> Vec<String> {
        messages(&custom_resource_definition(&definition(value), None))
    }

    fn with_schema(schema: Value) -> Value {
        let mut crd = crontab();
        crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"] = schema;
        crd
    }

    /// A version as upstream prints it once its schema, subresources and columns moved out.
    fn go_version_text(name: &str, storage: bool) -> String {
        format!(
            "apiextensions.CustomResourceDefinitionVersion{{Name:\"{name}\", Served:true, Storage:{storage}, Deprecated:false, DeprecationWarning:(*string)(nil), Schema:(*apiextensions.CustomResourceValidation)(nil), Subresources:(*apiextensions.CustomResourceSubresources)(nil), AdditionalPrinterColumns:[]apiextensions.CustomResourceColumnDefinition(nil), SelectableFields:[]apiextensions.SelectableField(nil)}}"
        )
    }

    #[test]
    fn published_definition_passes() {
        assert_eq!(check(crontab()), Vec::<String>::new());
        let mut crd = crontab();
        crd["metadata"]["finalizers"] = json!(["customresourcecleanup.apiextensions.k8s.io"]);
        assert_eq!(check(crd), Vec::<String>::new());
    }

    #[test]
    fn names_group_and_scope() {
        let mut crd = crontab();
        crd["spec"]["group"] = json!("example");
        crd["spec"]["scope"] = json!("Global");
        crd["spec"]["names"]["listKind"] = json!("CronTab");
        crd["spec"]["names"]["shortNames"] = json!(["ct", "1ct"]);
        assert_eq!(
            check(crd),
            vec![
                "metadata.name: Invalid value: \"crontabs.stable.example.com\": must be spec.names.plural+\".\"+spec.group".to_string(),
                "spec.group: Invalid value: \"example\": should be a domain with at least one dot".to_string(),
                "spec.scope: Unsupported value: \"Global\": supported values: \"Cluster\", \"Namespaced\"".to_string(),
                format!(
                    "spec.names.shortNames[1]: Invalid value: \"1ct\": {}",
                    is_dns1035_label("1ct")[0]
                ),
                "spec.names.listKind: Invalid value: \"CronTab\": kind and listKind may not be the same".to_string(),
            ]
        );
    }

    #[test]
    fn required_names() {
        let mut crd = crontab();
        crd["metadata"]["name"] = json!(".stable.example.com");
        crd["spec"]["names"] = json!({"plural": "", "kind": "Cron Tab"});
        assert_eq!(
            check(crd),
            vec![
                format!(
                    "metadata.name: Invalid value: \".stable.example.com\": {}",
                    is_dns1123_subdomain(".stable.example.com")[0]
                ),
                "spec.names.plural: Required value".to_string(),
                "spec.names.singular: Required value".to_string(),
                "spec.names.listKind: Required value".to_string(),
                format!(
                    "spec.names.kind: Invalid value: \"Cron Tab\": may have mixed case, but should otherwise match: {}",
                    is_dns1035_label("cron tab").join(",")
                ),
            ]
        );
    }

    #[test]
    fn exactly_one_storage_version() {
        let mut crd = crontab();
        crd["spec"]["versions"][0]["storage"] = json!(false);
        assert_eq!(
            check(crd),
            vec![
                "spec.versions: Invalid value: []apiextensions.CustomResourceDefinitionVersion{apiextensions.CustomResourceDefinitionVersion{Name:\"v1\", Served:true, Storage:false, Deprecated:false, DeprecationWarning:(*string)(nil), Schema:(*apiextensions.CustomResourceValidation)(nil), Subresources:(*apiextensions.CustomResourceSubresources)(nil), AdditionalPrinterColumns:[]apiextensions.CustomResourceColumnDefinition(nil), SelectableFields:[]apiextensions.SelectableField(nil)}}: must have exactly one version marked as storage version"
            ]
        );
    }

    #[test]
    fn version_names_are_unique_labels() {
        let mut crd = crontab();
        let first = crd["spec"]["versions"][0].clone();
        let mut second = first.clone();
        second["storage"] = json!(false);
        crd["spec"]["versions"] = json!([first, second]);
        assert_eq!(
            check(crd),
            vec![format!(
                "spec.versions: Invalid value: []apiextensions.CustomResourceDefinitionVersion{{{}, {}}}: must contain unique version names",
                go_version_text("v1", true),
                go_version_text("v1", false)
            )]
        );

        // The internal form repeats the first version's name as `spec.version`.
        let mut crd = crontab();
        crd["spec"]["versions"][0]["name"] = json!("V1");
        crd["status"]["storedVersions"] = json!(["V1"]);
        let label = is_dns1035_label("V1").join(",");
        assert_eq!(
            check(crd),
            vec![
                format!("spec.versions[0].name: Invalid value: \"V1\": {label}"),
                format!("spec.version: Invalid value: \"V1\": {label}"),
            ]
        );
    }

    #[test]
    fn deprecation_warnings_need_deprecated_versions() {
        let mut crd = crontab();
        crd["spec"]["versions"][0]["deprecationWarning"] = json!("use v2");
        assert_eq!(
            check(crd.clone()),
            vec![
                "spec.versions[0].deprecationWarning: Invalid value: \"use v2\": can only be set for deprecated versions"
            ]
        );
        crd["spec"]["versions"][0]["deprecated"] = json!(true);
        crd["spec"]["versions"][0]["deprecationWarning"] = json!("use\tv2");
        assert_eq!(
            check(crd),
            vec![
                "spec.versions[0].deprecationWarning: Invalid value: \"use\\tv2\": must only contain printable UTF-8 characters; non-printable character found at index 3"
            ]
        );
    }

    #[test]
    fn schemas_are_required() {
        let mut crd = crontab();
        crd["spec"]["versions"][0]
            .as_object_mut()
            .expect("a version")
            .remove("schema");
        assert_eq!(
            check(crd),
            vec!["spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required"]
        );
    }

    #[test]
    fn schemas_that_differ_are_checked_per_version() {
        let mut crd = crontab();
        let first = crd["spec"]["versions"][0].clone();
        let mut second = first.clone();
        second["name"] = json!("v2");
        second["storage"] = json!(false);
        second["schema"]["openAPIV3Schema"] = json!({
            "type": "object",
            "properties": {"spec": {"type": "object", "properties": {"size": {}}}}
        });
        crd["spec"]["versions"] = json!([first, second]);
        assert_eq!(
            check(crd),
            vec![
                "spec.versions[1].schema.openAPIV3Schema.properties[spec].properties[size].type: Required value: must not be empty for specified object fields"
            ]
        );
    }

    #[test]
    fn structural_errors_come_sorted() {
        let crd = with_schema(json!({
            "type": "object",
            "properties": {
                "metadata": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "labels": {"type": "object"}}
                },
                "list": {"type": "array"}
            }
        }));
        assert_eq!(
            check(crd),
            vec![
                "spec.validation.openAPIV3Schema.properties[list].items: Required value: must be specified",
                "spec.validation.openAPIV3Schema.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified",
            ]
        );
        let crd = with_schema(json!({
            "type": "object",
            "properties": {
                "metadata": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 20}}}
            }
        }));
        assert_eq!(check(crd), Vec::<String>::new());
    }

    #[test]
    fn the_root_is_an_object() {
        assert_eq!(
            check(with_schema(json!({"type": "array"}))),
            vec![
                "spec.validation.openAPIV3Schema.type: Invalid value: \"array\": only \"object\" is allowed as the type at the root of the schema if the status subresource is enabled",
                "spec.validation.openAPIV3Schema.items: Required value: must be specified",
                "spec.validation.openAPIV3Schema.type: Invalid value: \"array\": must be object at the root",
            ]
        );
        assert_eq!(
            check(with_schema(
                json!({"properties": {"spec": {"type": "object"}}})
            )),
            vec![
                "spec.validation.openAPIV3Schema.type: Required value: must not be empty at the root"
            ]
        );
    }

    #[test]
    fn int_or_string_and_unknown_fields_need_no_type() {
        let crd = with_schema(json!({
            "type": "object",
            "properties": {
                "port": {
                    "x-kubernetes-int-or-string": true,
                    "anyOf": [{"type": "integer"}, {"type": "string"}]
                },
                "raw": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                "any": {"x-kubernetes-preserve-unknown-fields": true},
                "size": {"type": "string", "anyOf": [{"type": "string", "maxLength": 3}]},
                "items": {"type": "array", "items": {"properties": {"a": {"type": "string"}}}}
            }
        }));
        assert_eq!(
            check(crd),
            vec![
                "spec.validation.openAPIV3Schema.properties[items].items.type: Required value: must not be empty for specified array items",
                "spec.validation.openAPIV3Schema.properties[size].anyOf[0].type: Forbidden: must be empty to be structural",
            ]
        );
    }

    #[test]
    fn properties_and_additional_properties_exclude_each_other() {
        let crd = with_schema(json!({
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "properties": {"a": {"type": "string"}},
                    "additionalProperties": {"type": "string"}
                },
                "labels": {"type": "object", "additionalProperties": {"type": "string"}}
            }
        }));
        assert_eq!(
            check(crd),
            vec![
                "spec.validation.openAPIV3Schema.properties[spec].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive"
            ]
        );
    }

    #[test]
    fn list_types() {
        let crd = with_schema(json!({
            "type": "object",
            "properties": {
                "ports": {
                    "type": "array",
                    "x-kubernetes-list-type": "map",
                    "items": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
                },
                "hosts": {
                    "type": "array",
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["name"],
                    "items": {"type": "object", "properties": {"name": {"type": "string"}}}
                },
                "tags": {"type": "string", "x-kubernetes-list-type": "set"},
                "names": {
                    "type": "array",
                    "x-kubernetes-list-type": "atomic",
                    "x-kubernetes-list-map-keys": ["name"],
                    "items": {"type": "string"}
                }
            }
        }));
        assert_eq!(
            check(crd),
            vec![
                "spec.validation.openAPIV3Schema.properties[hosts].items.properties[name].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property",
                "spec.validation.openAPIV3Schema.properties[names].x-kubernetes-list-type: Invalid value: \"atomic\": must be map if x-kubernetes-list-map-keys is non-empty",
                "spec.validation.openAPIV3Schema.properties[ports].x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map",
                "spec.validation.openAPIV3Schema.properties[tags].type: Invalid value: \"string\": must be array if x-kubernetes-list-type is specified",
            ]
        );
    }

    #[test]
    fn defaults_where_allowed() {
        let crd = with_schema(json!({
            "type": "object",
            "properties": {
                "metadata": {"type": "object", "default": {"name": "x"}},
                "spec": {
                    "type": "object",
                    "default": {"replicas": 1, "bogus": true},
                    "properties": {"replicas": {"type": "integer"}}
                },
                "extra": {
                    "type": "object",
                    "x-kubernetes-preserve-unknown-fields": true,
                    "default": {"anything": [1.5, "x"]}
                }
            }
        }));
        assert_eq!(
            check(crd),
            vec![
                "spec.validation.openAPIV3Schema.properties[spec].default: Invalid value: map[string]interface {}{\"bogus\":true, \"replicas\":1}: must not have unknown fields",
                "spec.validation.openAPIV3Schema.properties[metadata].default: Forbidden: must not be set in top-level metadata",
            ]
        );
    }

    #[test]
    fn scale_paths() {
        let mut crd = crontab();
        crd["spec"]["versions"][0]["subresources"]["scale"] = json!({
            "specReplicasPath": "spec.replicas",
            "statusReplicasPath": ".spec.x",
            "labelSelectorPath": ".metadata.labels"
        });
        assert_eq!(
            check(crd),
            vec![
                "spec.subresources.scale.specReplicasPath: Invalid value: \"spec.replicas\": must be a simple json path starting with .",
                "spec.subresources.scale.statusReplicasPath: Invalid value: \".spec.x\": should be a json path under .status",
                "spec.subresources.scale.labelSelectorPath: Invalid value: \".metadata.labels\": should be a json path under either .spec or .status",
            ]
        );
    }

    #[test]
    fn printer_columns() {
        let mut crd = crontab();
        crd["spec"]["versions"][0]["additionalPrinterColumns"] =
            json!([{"name": "", "type": "text", "format": "uuid", "jsonPath": ""}]);
        assert_eq!(
            check(crd),
            vec![
                "spec.additionalPrinterColumns[0].name: Required value",
                "spec.additionalPrinterColumns[0].type: Invalid value: \"text\": must be one of boolean,date,integer,number,string",
                "spec.additionalPrinterColumns[0].format: Invalid value: \"uuid\": must be one of byte,date,date-time,double,float,int32,int64,password",
                "spec.additionalPrinterColumns[0].JSONPath: Required value",
            ]
        );
    }

    #[test]
    fn conversion_strategies() {
        let with_conversion = |conversion: Value| {
            let mut crd = crontab();
            crd["spec"]["conversion"] = conversion;
            check(crd)
        };
        assert_eq!(
            with_conversion(json!({"strategy": "Convert"})),
            vec![
                "spec.conversion.strategy: Unsupported value: \"Convert\": supported values: \"None\", \"Webhook\""
            ]
        );
        assert_eq!(
            with_conversion(json!({"strategy": "Webhook"})),
            vec![
                "spec.conversion.webhookClientConfig: Required value: required when strategy is set to Webhook",
                "spec.conversion.conversionReviewVersions: Required value",
            ]
        );
        assert_eq!(
            with_conversion(
                json!({"strategy": "None", "webhook": {"conversionReviewVersions": ["v1"]}})
            ),
            vec![
                "spec.conversion.conversionReviewVersions: Forbidden: should not be set when strategy is not set to Webhook"
            ]
        );
        assert_eq!(
            with_conversion(json!({
                "strategy": "Webhook",
                "webhook": {
                    "conversionReviewVersions": ["v2"],
                    "clientConfig": {"service": {"name": "", "namespace": "crontab", "port": 443}}
                }
            })),
            vec![
                "spec.conversion.webhookClientConfig.service.namespace: Required value: service namespace is required",
                "spec.conversion.conversionReviewVersions: Invalid value: []string{\"v2\"}: must include at least one of v1, v1beta1",
            ]
        );
        assert_eq!(
            with_conversion(json!({
                "strategy": "Webhook",
                "webhook": {
                    "conversionReviewVersions": ["v1"],
                    "clientConfig": {"url": "http://example.com/convert"}
                }
            })),
            vec![
                "spec.conversion.webhookClientConfig.url: Invalid value: \"http\": 'https' is the only allowed URL scheme; desired format: https://host[/path]"
            ]
        );
    }

    #[test]
    fn stored_versions_follow_the_spec() {
        let mut crd = crontab();
        crd["status"]["storedVersions"] = json!(["v1beta1"]);
        assert_eq!(
            check(crd),
            vec![
                "status.storedVersions: Invalid value: []string{\"v1beta1\"}: must have the storage version v1",
                "status.storedVersions[0]: Invalid value: \"v1beta1\": missing from spec.versions; v1beta1 was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in v1beta1 and removes v1beta1 from status.storedVersions",
            ]
        );
        let mut crd = crontab();
        crd["status"]
            .as_object_mut()
            .expect("a status")
            .remove("storedVersions");
        assert_eq!(
            check(crd),
            vec![
                "status.storedVersions: Invalid value: []string(nil): must have at least one stored version"
            ]
        );
    }

    #[test]
    fn kubernetes_groups_need_api_approval() {
        let approved = |annotation: Option<&str>| {
            let mut crd = crontab();
            crd["metadata"]["name"] = json!("crontabs.stable.k8s.io");
            crd["spec"]["group"] = json!("stable.k8s.io");
            if let Some(annotation) = annotation {
                crd["metadata"]["annotations"] = json!({"api-approved.kubernetes.io": annotation});
            }
            check(crd)
        };
        assert_eq!(
            approved(None),
            vec![
                "metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval annotation \"api-approved.kubernetes.io\", see https://github.com/kubernetes/enhancements/pull/1111"
            ]
        );
        assert_eq!(
            approved(Some("https://github.com/kubernetes/enhancements/pull/1111")),
            Vec::<String>::new()
        );
        assert_eq!(
            approved(Some("unapproved, testing only")),
            Vec::<String>::new()
        );
        assert_eq!(
            approved(Some("yes")),
            vec![
                "metadata.annotations[api-approved.kubernetes.io]: Invalid value: \"yes\": protected groups must have approval annotation \"api-approved.kubernetes.io\" with either a URL or a reason starting with \"unapproved\", see https://github.com/kubernetes/enhancements/pull/1111"
            ]
        );
    }

    #[test]
    fn updates_keep_the_resource_name() {
        let mut old_value = crontab();
        old_value["status"]["conditions"] = json!([{"type": "Established", "status": "True"}]);
        let mut old = definition(old_value);
        old.metadata = stored(old.metadata.clone());
        let mut new = old.clone();
        new.spec.scope = "Cluster".into();
        new.spec.group = "other.example.com".into();
        assert_eq!(
            messages(&custom_resource_definition(&new, Some(&old))),
            vec![
                "spec.scope: Invalid value: \"Cluster\": field is immutable",
                "spec.group: Invalid value: \"other.example.com\": field is immutable",
            ]
        );
        // Before the API is served its scope may still change.
        if let Some(status) = old.status.as_mut() {
            status.conditions = None;
        }
        assert_eq!(
            messages(&custom_resource_definition(&new, Some(&old))),
            vec!["spec.group: Invalid value: \"other.example.com\": field is immutable"]
        );
    }

    #[test]
    fn updates_record_the_new_storage_version() {
        let mut value = crontab();
        let mut first = value["spec"]["versions"][0].clone();
        let mut second = first.clone();
        first["storage"] = json!(false);
        second["name"] = json!("v2");
        value["spec"]["versions"] = json!([first, second]);
        let mut new = definition(value);
        new.metadata = stored(new.metadata.clone());
        let old = new.clone();
        assert_eq!(
            messages(&custom_resource_definition(&new, Some(&old))),
            vec![
                "status.storedVersions: Invalid value: []string{\"v1\"}: must have the storage version v2"
            ]
        );
        if let Some(status) = new.status.as_mut() {
            status.stored_versions = Some(vec!["v1".into(), "v2".into()]);
        }
        assert!(custom_resource_definition(&new, Some(&old)).is_empty());
    }

    #[test]
    fn go_renders_floats_and_json() {
        let cases = [
            (1.0, "1"),
            (1.5, "1.5"),
            (-2.25, "-2.25"),
            (123456.0, "123456"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
        ];
        for (value, rendered) in cases {
            assert_eq!(go_float(value), rendered, "{value}");
        }
        assert_eq!(
            go_json(&json!({"b": [1, null], "a": "x"})),
            "map[string]interface {}{\"a\":\"x\", \"b\":[]interface {}{1, interface {}(nil)}}"
        );
    }
}
