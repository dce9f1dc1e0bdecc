//! Compute resource names and quantities: container requests and limits, and node capacity.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ResourceRequirements;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as QuantityString;

use super::field::{ErrorList, FieldError, Path};
use super::meta::IS_NEGATIVE;
use super::names::is_qualified_name;
use super::quantity::{FORMAT_ERROR, Quantity};

const STANDARD_RESOURCES: [&str; 20] = [
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
    "resourcequotas",
    "services",
    "replicationcontrollers",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "storage",
    "requests.storage",
    "services.nodeports",
    "services.loadbalancers",
];
const STANDARD_CONTAINER_RESOURCES: [&str; 3] = ["cpu", "memory", "ephemeral-storage"];
const INTEGER_RESOURCES: [&str; 9] = [
    "pods",
    "resourcequotas",
    "services",
    "replicationcontrollers",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "services.nodeports",
    "services.loadbalancers",
];
const HUGE_PAGES_PREFIX: &str = "hugepages-";

fn is_huge_pages(name: &str) -> bool {
    name.starts_with(HUGE_PAGES_PREFIX)
}

/// Names in the `kubernetes.io` domain, or without a domain.
fn is_native(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

fn is_extended(name: &str) -> bool {
    !is_native(name)
        && !name.starts_with("requests.")
        && is_qualified_name(&format!("requests.{name}")).is_empty()
}

/// Requests of these resources may be lower than their limits.
pub(super) fn is_overcommit_allowed(name: &str) -> bool {
    is_native(name) && !is_huge_pages(name)
}

pub(super) fn is_standard_resource(name: &str) -> bool {
    STANDARD_RESOURCES.contains(&name)
        || is_huge_pages(name)
        || name.starts_with("requests.hugepages-")
}

pub(super) fn resource_name(name: &str, path: &Path) -> ErrorList {
    let errs: ErrorList = is_qualified_name(name)
        .into_iter()
        .map(|m| FieldError::invalid(path, name, m))
        .collect();
    if !errs.is_empty() {
        return errs;
    }
    if !name.contains('/') && !is_standard_resource(name) {
        return vec![FieldError::invalid(
            path,
            name,
            "must be a standard resource type or fully qualified",
        )];
    }
    errs
}

pub(super) fn container_resource_name(name: &str, path: &Path) -> ErrorList {
    let mut errs = resource_name(name, path);
    if !name.contains('/') {
        if !STANDARD_CONTAINER_RESOURCES.contains(&name) && !is_huge_pages(name) {
            errs.push(FieldError::invalid(
                path,
                name,
                "must be a standard resource for containers",
            ));
        }
    } else if !is_native(name) && !is_extended(name) {
        errs.push(FieldError::invalid(
            path,
            name,
            "doesn't follow extended resource name standard",
        ));
    }
    errs
}

/// Parses a quantity, reporting an unreadable one at `path`.
pub(super) fn parse(value: &QuantityString, path: &Path) -> Result<Quantity, FieldError> {
    Quantity::parse(&value.0).ok_or_else(|| FieldError::invalid(path, &value.0, FORMAT_ERROR))
}

/// `ValidateResourceQuantityValue`: not negative, and whole for countable resources.
pub(super) fn quantity_value(name: &str, value: &QuantityString, path: &Path) -> ErrorList {
    let quantity = match parse(value, path) {
        Ok(quantity) => quantity,
        Err(err) => return vec![err],
    };
    let mut errs = ErrorList::new();
    if quantity.is_negative() {
        errs.push(FieldError::invalid(path, &value.0, IS_NEGATIVE));
    }
    let integer_resource = INTEGER_RESOURCES.contains(&name) || is_extended(name);
    if integer_resource && !quantity.is_whole() {
        errs.push(FieldError::invalid(path, &value.0, "must be an integer"));
    }
    errs
}

/// Node capacity or allocatable amounts.
pub fn resource_list(list: Option<&BTreeMap<String, QuantityString>>, path: &Path) -> ErrorList {
    list.into_iter()
        .flatten()
        .flat_map(|(name, value)| quantity_value(name, value, &path.child(name)))
        .collect()
}

/// A container's requests and limits (`ValidateContainerResourceRequirements`).
pub fn container_requirements(
    requirements: Option<&ResourceRequirements>,
    path: &Path,
) -> ErrorList {
    let Some(requirements) = requirements else {
        return ErrorList::new();
    };
    let limits_path = path.child("limits");
    let requests_path = path.child("requests");
    let limits = requirements.limits.as_ref();
    let mut errs = ErrorList::new();
    for (name, value) in limits.into_iter().flatten() {
        let field = limits_path.key(name);
        errs.extend(container_resource_name(name, &field));
        errs.extend(quantity_value(name, value, &field));
    }
    for (name, value) in requirements.requests.iter().flatten() {
        let field = requests_path.key(name);
        errs.extend(container_resource_name(name, &field));
        errs.extend(quantity_value(name, value, &field));
        match limits.and_then(|l| l.get(name)) {
            Some(limit) => errs.extend(request_within_limit(name, value, limit, &requests_path)),
            None if !is_overcommit_allowed(name) => errs.push(FieldError::required(
                &limits_path,
                "Limit must be set for non overcommitable resources",
            )),
            None => {}
        }
    }
    if uses_only_huge_pages(requirements) {
        errs.push(FieldError::forbidden(
            path,
            "HugePages require cpu or memory",
        ));
    }
    errs
}

fn request_within_limit(
    name: &str,
    request: &QuantityString,
    limit: &QuantityString,
    path: &Path,
) -> Option<FieldError> {
    let (Some(req), Some(lim)) = (Quantity::parse(&request.0), Quantity::parse(&limit.0)) else {
        return None;
    };
    if req != lim && !is_overcommit_allowed(name) {
        Some(FieldError::invalid(
            path,
            &request.0,
            format!("must be equal to {name} limit of {}", limit.0),
        ))
    } else if req > lim {
        Some(FieldError::invalid(
            path,
            &request.0,
            format!("must be less than or equal to {name} limit of {}", limit.0),
        ))
    } else {
        None
    }
}

fn uses_only_huge_pages(requirements: &ResourceRequirements) -> bool {
    let names = || {
        requirements
            .limits
            .iter()
            .chain(requirements.requests.iter())
            .flat_map(|m| m.keys())
    };
    names().any(|n| is_huge_pages(n)) && !names().any(|n| n == "cpu" || n == "memory")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn requirements(limits: &[(&str, &str)], requests: &[(&str, &str)]) -> ResourceRequirements {
        let list = |items: &[(&str, &str)]| {
            Some(
                items
                    .iter()
                    .map(|(k, v)| (k.to_string(), QuantityString(v.to_string())))
                    .collect(),
            )
        };
        ResourceRequirements {
            claims: None,
            limits: list(limits),
            requests: list(requests),
        }
    }

    fn check(limits: &[(&str, &str)], requests: &[(&str, &str)]) -> Vec<String> {
        container_requirements(
            Some(&requirements(limits, requests)),
            &Path::new("resources"),
        )
        .iter()
        .map(ToString::to_string)
        .collect()
    }

    #[test]
    fn requests_may_not_exceed_limits() {
        assert!(
            check(
                &[("cpu", "1"), ("memory", "1Gi")],
                &[("cpu", "500m"), ("memory", "512Mi")]
            )
            .is_empty()
        );
        assert_eq!(
            check(&[("cpu", "500m")], &[("cpu", "1")]),
            vec![
                "resources.requests: Invalid value: \"1\": must be less than or equal to cpu limit of 500m"
            ]
        );
    }

    #[test]
    fn quantities_are_non_negative_and_well_formed() {
        assert_eq!(
            check(&[], &[("cpu", "-1")]),
            vec![
                "resources.requests[cpu]: Invalid value: \"-1\": must be greater than or equal to 0"
            ]
        );
        assert_eq!(
            check(&[("memory", "lots")], &[]),
            vec![format!(
                "resources.limits[memory]: Invalid value: \"lots\": {FORMAT_ERROR}"
            )]
        );
    }

    #[test]
    fn resource_names_and_extended_resources() {
        assert_eq!(
            check(&[("gpu", "1")], &[]),
            vec![
                "resources.limits[gpu]: Invalid value: \"gpu\": must be a standard resource type or fully qualified",
                "resources.limits[gpu]: Invalid value: \"gpu\": must be a standard resource for containers",
            ]
        );
        assert_eq!(
            check(&[("example.com/gpu", "2")], &[("example.com/gpu", "1")]),
            vec![
                "resources.requests: Invalid value: \"1\": must be equal to example.com/gpu limit of 2"
            ]
        );
        assert_eq!(
            check(&[], &[("example.com/gpu", "1")]),
            vec![
                "resources.limits: Required value: Limit must be set for non overcommitable resources"
            ]
        );
        assert_eq!(
            check(&[("example.com/gpu", "500m")], &[]),
            vec!["resources.limits[example.com/gpu]: Invalid value: \"500m\": must be an integer"]
        );
        assert_eq!(
            check(&[("hugepages-2Mi", "2Mi")], &[("hugepages-2Mi", "2Mi")]),
            vec!["resources: Forbidden: HugePages require cpu or memory"]
        );
    }
}
