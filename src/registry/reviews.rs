//! The reviews: resources that are only created, answered and never stored. Access reviews
//! (authorization.k8s.io/v1) ask the authorizer whether a user, or the caller, may do
//! something, or what the caller may do in a namespace (`kubectl auth can-i`, `--list`); the
//! self subject review (authentication.k8s.io/v1) tells the caller who it is (`kubectl auth
//! whoami`). The answers are computed in the API server's review handler.

use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::authorization::v1::{
    LocalSubjectAccessReview, SelfSubjectAccessReview, SelfSubjectRulesReview, SubjectAccessReview,
};

use super::strategy::kind;
use super::{Resource, Typed};
use crate::validation::{self, ErrorList};

kind!(
    SelfSubjectAccessReviews: SelfSubjectAccessReview,
    validate: validation::self_subject_access_review,
);
kind!(
    SubjectAccessReviews: SubjectAccessReview,
    validate: validation::subject_access_review,
);
kind!(
    LocalSubjectAccessReviews: LocalSubjectAccessReview,
    validate: validation::local_subject_access_review,
);
kind!(
    SelfSubjectRulesReviews: SelfSubjectRulesReview,
    validate: validation::self_subject_rules_review,
);
kind!(SelfSubjectReviews: SelfSubjectReview, validate: nothing_to_check);

/// Who asks is the whole of a self subject review.
fn nothing_to_check(_: &SelfSubjectReview, _: Option<&SelfSubjectReview>) -> ErrorList {
    ErrorList::new()
}

pub static SELF_SUBJECT_ACCESS_REVIEWS: Resource = Resource {
    group: "authorization.k8s.io",
    version: "v1",
    kind: "SelfSubjectAccessReview",
    plural: "selfsubjectaccessreviews",
    singular: "selfsubjectaccessreview",
    short_names: &[],
    categories: &[],
    namespaced: false,
    subresources: &[],
    field_labels: &[],
    generation: false,
    returns_deleted_object: false,
    create_only: true,
    strategy: &Typed::<SelfSubjectAccessReviews>::NEW,
};

pub static SUBJECT_ACCESS_REVIEWS: Resource = Resource {
    kind: "SubjectAccessReview",
    plural: "subjectaccessreviews",
    singular: "subjectaccessreview",
    strategy: &Typed::<SubjectAccessReviews>::NEW,
    ..SELF_SUBJECT_ACCESS_REVIEWS
};

pub static LOCAL_SUBJECT_ACCESS_REVIEWS: Resource = Resource {
    kind: "LocalSubjectAccessReview",
    plural: "localsubjectaccessreviews",
    singular: "localsubjectaccessreview",
    namespaced: true,
    strategy: &Typed::<LocalSubjectAccessReviews>::NEW,
    ..SELF_SUBJECT_ACCESS_REVIEWS
};

pub static SELF_SUBJECT_RULES_REVIEWS: Resource = Resource {
    kind: "SelfSubjectRulesReview",
    plural: "selfsubjectrulesreviews",
    singular: "selfsubjectrulesreview",
    strategy: &Typed::<SelfSubjectRulesReviews>::NEW,
    ..SELF_SUBJECT_ACCESS_REVIEWS
};

pub static SELF_SUBJECT_REVIEWS: Resource = Resource {
    group: "authentication.k8s.io",
    kind: "SelfSubjectReview",
    plural: "selfsubjectreviews",
    singular: "selfsubjectreview",
    strategy: &Typed::<SelfSubjectReviews>::NEW,
    ..SELF_SUBJECT_ACCESS_REVIEWS
};
