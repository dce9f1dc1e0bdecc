//! The kinds of admissionregistration.k8s.io/v1, which tell the API server which requests to
//! send to which webhook (the webhook configurations) and which to hold to which CEL validations
//! (ValidatingAdmissionPolicies, applied through their bindings). A policy is created with an
//! empty status, as upstream's strategy resets it.

use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
    ValidatingWebhookConfiguration,
};

use super::strategy::kind;
use super::{Resource, Subresource, Typed};
use crate::{defaults, validation};

kind!(
    ValidatingWebhookConfigurations: ValidatingWebhookConfiguration,
    validate: validation::validating_webhook_configuration,
    defaults: defaults::validating_webhook_configuration,
);
kind!(
    MutatingWebhookConfigurations: MutatingWebhookConfiguration,
    validate: validation::mutating_webhook_configuration,
    defaults: defaults::mutating_webhook_configuration,
);
kind!(
    ValidatingAdmissionPolicies: ValidatingAdmissionPolicy,
    validate: validation::validating_admission_policy,
    defaults: defaults::validating_admission_policy,
    prepare_create: empty_status,
);
kind!(
    ValidatingAdmissionPolicyBindings: ValidatingAdmissionPolicyBinding,
    validate: validation::validating_admission_policy_binding,
    defaults: defaults::validating_admission_policy_binding,
);

fn empty_status(policy: &mut ValidatingAdmissionPolicy) {
    policy.status = Some(Default::default());
}

pub static VALIDATING_WEBHOOK_CONFIGURATIONS: Resource = Resource {
    group: "admissionregistration.k8s.io",
    version: "v1",
    kind: "ValidatingWebhookConfiguration",
    plural: "validatingwebhookconfigurations",
    singular: "validatingwebhookconfiguration",
    short_names: &[],
    categories: &["api-extensions"],
    namespaced: false,
    subresources: &[],
    field_labels: &[],
    generation: true,
    returns_deleted_object: false,
    create_only: false,
    strategy: &Typed::<ValidatingWebhookConfigurations>::NEW,
};

pub static MUTATING_WEBHOOK_CONFIGURATIONS: Resource = Resource {
    kind: "MutatingWebhookConfiguration",
    plural: "mutatingwebhookconfigurations",
    singular: "mutatingwebhookconfiguration",
    strategy: &Typed::<MutatingWebhookConfigurations>::NEW,
    ..VALIDATING_WEBHOOK_CONFIGURATIONS
};

pub static VALIDATING_ADMISSION_POLICIES: Resource = Resource {
    kind: "ValidatingAdmissionPolicy",
    plural: "validatingadmissionpolicies",
    singular: "validatingadmissionpolicy",
    subresources: &[Subresource::Status],
    strategy: &Typed::<ValidatingAdmissionPolicies>::NEW,
    ..VALIDATING_WEBHOOK_CONFIGURATIONS
};

pub static VALIDATING_ADMISSION_POLICY_BINDINGS: Resource = Resource {
    kind: "ValidatingAdmissionPolicyBinding",
    plural: "validatingadmissionpolicybindings",
    singular: "validatingadmissionpolicybinding",
    strategy: &Typed::<ValidatingAdmissionPolicyBindings>::NEW,
    ..VALIDATING_WEBHOOK_CONFIGURATIONS
};
