//! Access reviews (upstream's `pkg/apis/authorization/validation`): a review asks about
//! exactly one of a resource or a non-resource path, a subject access review names a user or
//! a group, and a local one stays in its own namespace.

use k8s_openapi::api::authorization::v1::{
    LocalSubjectAccessReview, NonResourceAttributes, ResourceAttributes, SelfSubjectAccessReview,
    SelfSubjectRulesReview, SubjectAccessReview,
};

use super::field::{ErrorList, FieldError, Path};

fn attributes(
    resource: Option<&ResourceAttributes>,
    non_resource: Option<&NonResourceAttributes>,
    path: &Path,
) -> ErrorList {
    match (resource, non_resource) {
        (Some(_), Some(_)) => vec![FieldError::invalid_omitted(
            &path.child("nonResourceAttributes"),
            "cannot be specified in combination with resourceAttributes",
        )],
        (None, None) => vec![FieldError::invalid_omitted(
            &path.child("resourceAttributes"),
            "exactly one of nonResourceAttributes or resourceAttributes must be specified",
        )],
        _ => ErrorList::new(),
    }
}

pub fn self_subject_access_review(
    new: &SelfSubjectAccessReview,
    _old: Option<&SelfSubjectAccessReview>,
) -> ErrorList {
    let spec = &new.spec;
    attributes(
        spec.resource_attributes.as_ref(),
        spec.non_resource_attributes.as_ref(),
        &Path::new("spec"),
    )
}

pub fn subject_access_review(
    new: &SubjectAccessReview,
    _old: Option<&SubjectAccessReview>,
) -> ErrorList {
    let spec = &new.spec;
    let path = Path::new("spec");
    let mut errs = attributes(
        spec.resource_attributes.as_ref(),
        spec.non_resource_attributes.as_ref(),
        &path,
    );
    if spec.user.as_deref().unwrap_or_default().is_empty()
        && spec.groups.as_ref().is_none_or(Vec::is_empty)
    {
        errs.push(FieldError::invalid(
            &path.child("user"),
            "",
            "at least one of user or group must be specified",
        ));
    }
    errs
}

pub fn local_subject_access_review(
    new: &LocalSubjectAccessReview,
    _old: Option<&LocalSubjectAccessReview>,
) -> ErrorList {
    let spec = &new.spec;
    let path = Path::new("spec");
    let mut errs = ErrorList::new();
    if spec.resource_attributes.is_none() {
        errs.push(FieldError::invalid_omitted(
            &path.child("resourceAttributes"),
            "resourceAttributes must be specified",
        ));
    }
    if spec.non_resource_attributes.is_some() {
        errs.push(FieldError::invalid_omitted(
            &path.child("nonResourceAttributes"),
            "disallowed on this kind of request",
        ));
    }
    if spec.user.as_deref().unwrap_or_default().is_empty()
        && spec.groups.as_ref().is_none_or(Vec::is_empty)
    {
        errs.push(FieldError::invalid(
            &path.child("user"),
            "",
            "at least one of user or group must be specified",
        ));
    }
    let namespace = new.metadata.namespace.as_deref().unwrap_or_default();
    if let Some(given) = spec
        .resource_attributes
        .as_ref()
        .and_then(|a| a.namespace.as_deref())
        && given != namespace
    {
        errs.push(FieldError::invalid(
            &path.child("resourceAttributes").child("namespace"),
            given,
            "must match metadata.namespace",
        ));
    }
    errs
}

/// A rules review asks about any namespace, or none.
pub fn self_subject_rules_review(
    _new: &SelfSubjectRulesReview,
    _old: Option<&SelfSubjectRulesReview>,
) -> ErrorList {
    ErrorList::new()
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::messages;
    use super::*;
    use k8s_openapi::api::authorization::v1::{
        SelfSubjectAccessReviewSpec, SubjectAccessReviewSpec,
    };

    #[test]
    fn a_review_asks_about_one_thing() {
        let review = |resource: bool, path: bool| SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: resource.then(ResourceAttributes::default),
                non_resource_attributes: path.then(NonResourceAttributes::default),
            },
            ..Default::default()
        };
        assert!(self_subject_access_review(&review(true, false), None).is_empty());
        assert_eq!(
            messages(&self_subject_access_review(&review(true, true), None)),
            vec![
                "spec.nonResourceAttributes: Invalid value: cannot be specified in combination with resourceAttributes"
            ]
        );
        assert_eq!(
            messages(&self_subject_access_review(&review(false, false), None)),
            vec![
                "spec.resourceAttributes: Invalid value: exactly one of nonResourceAttributes or resourceAttributes must be specified"
            ]
        );
    }

    #[test]
    fn a_subject_review_names_someone() {
        let review = SubjectAccessReview {
            spec: SubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes::default()),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(
            messages(&subject_access_review(&review, None)),
            vec!["spec.user: Invalid value: \"\": at least one of user or group must be specified"]
        );
    }
}
