//! The admission webhook configurations (admissionregistration.k8s.io/v1), which tell the API
//! server which requests to send to which webhook.

use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
};

use super::strategy::kind;
use super::{Resource, Typed};
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
