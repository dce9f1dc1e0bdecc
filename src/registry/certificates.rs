//! CertificateSigningRequests (certificates.k8s.io/v1): requests for a certificate from a
//! named signer. Stored and served; no signer acts on them yet.

use k8s_openapi::api::certificates::v1::CertificateSigningRequest;

use super::strategy::kind;
use super::{Resource, Subresource, Typed};
use crate::validation;

kind!(
    CertificateSigningRequests: CertificateSigningRequest,
    validate: validation::certificate_signing_request,
    prepare_create: empty_status,
);

fn empty_status(request: &mut CertificateSigningRequest) {
    request.status = Some(Default::default());
}

pub static RESOURCE: Resource = Resource {
    group: "certificates.k8s.io",
    version: "v1",
    kind: "CertificateSigningRequest",
    plural: "certificatesigningrequests",
    singular: "certificatesigningrequest",
    short_names: &["csr"],
    categories: &[],
    namespaced: false,
    subresources: &[Subresource::Status],
    field_labels: &[("spec.signerName", "")],
    generation: false,
    returns_deleted_object: false,
    create_only: false,
    strategy: &Typed::<CertificateSigningRequests>::NEW,
};
