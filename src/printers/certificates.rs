//! The certificate signing requests table of certificates.k8s.io: who asked, which signer is
//! to sign, for how long, and where the request stands.

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::certificates::v1::{
    CertificateSigningRequest, CertificateSigningRequestStatus,
};
use serde_json::Value;

use super::common::{self, AGE, NAME};
use super::{Column, Printer, duration};

pub(super) static CERTIFICATE_SIGNING_REQUESTS: Printer = Printer {
    columns: &COLUMNS,
    row,
};

const COLUMNS: [Column; 6] = [
    NAME,
    AGE,
    Column::string(
        "SignerName",
        "Requested signer for the request. It is a qualified name in the form: `scope-hostname.io/name`. If empty, it will be defaulted:\n 1. If it's a kubelet client certificate, it is assigned\n    \"kubernetes.io/kube-apiserver-client-kubelet\".\n 2. If it's a kubelet serving certificate, it is assigned\n    \"kubernetes.io/kubelet-serving\".\n 3. Otherwise, it is assigned \"kubernetes.io/legacy-unknown\".\nDistribution of trust for signers happens out of band. You can select on this field using `spec.signerName`.",
    ),
    // Upstream describes the requestor with the text of the request field.
    Column::string("Requestor", "Base64-encoded PKCS#10 CSR data"),
    Column::string(
        "RequestedDuration",
        "expirationSeconds is the requested duration of validity of the issued certificate. The certificate signer may issue a certificate with a different validity duration so a client must check the delta between the notBefore and and notAfter fields in the issued certificate to determine the actual duration.\n\nThe v1.22+ in-tree implementations of the well-known Kubernetes signers will honor this field as long as the requested duration is not greater than the maximum duration they will honor per the --cluster-signing-duration CLI flag to the Kubernetes controller manager.\n\nCertificate signers may not honor this field for various reasons:\n\n  1. Old signer that is unaware of the field (such as the in-tree\n     implementations prior to v1.22)\n  2. Signer whose configured maximum is shorter than the requested duration\n  3. Signer whose configured minimum is longer than the requested duration\n\nThe minimum valid value for expirationSeconds is 600, i.e. 10 minutes.",
    ),
    Column::string(
        "Condition",
        "Conditions applied to the request, such as approval or denial.",
    ),
];

fn row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let request: CertificateSigningRequest = common::parse(object)?;
    let spec = &request.spec;
    let requested_duration = spec.expiration_seconds.map_or_else(
        || "<none>".to_owned(),
        |seconds| duration::human(SignedDuration::from_secs(i64::from(seconds))),
    );
    Some(vec![
        common::name(&request.metadata),
        common::age(&request.metadata, now),
        common::or_none(Some(spec.signer_name.as_str())).into(),
        spec.username.clone().unwrap_or_default().into(),
        requested_duration.into(),
        condition(request.status.as_ref()).into(),
    ])
}

/// Denied, else Approved, else Pending (whatever the conditions' statuses say), then ",Failed"
/// for a request whose signing failed and ",Issued" once it has its certificate.
fn condition(status: Option<&CertificateSigningRequestStatus>) -> String {
    let conditions = status
        .and_then(|status| status.conditions.as_deref())
        .unwrap_or_default();
    let has = |condition_type: &str| {
        conditions
            .iter()
            .any(|condition| condition.type_ == condition_type)
    };
    let mut text = if has("Denied") {
        "Denied".to_owned()
    } else if has("Approved") {
        "Approved".to_owned()
    } else {
        "Pending".to_owned()
    };
    if has("Failed") {
        text.push_str(",Failed");
    }
    let issued = status
        .and_then(|status| status.certificate.as_ref())
        .is_some_and(|certificate| !certificate.0.is_empty());
    if issued {
        text.push_str(",Issued");
    }
    text
}
