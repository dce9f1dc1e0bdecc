//! CertificateSigningRequests (upstream's `pkg/apis/certificates/validation`): a PEM
//! certificate request, a signer, known key usages and a lifetime of at least ten minutes.

use k8s_openapi::api::certificates::v1::CertificateSigningRequest;

use super::field::{ErrorList, FieldError, Path};
use super::meta::object_meta;
use super::names::{NameRule, is_dns1123_subdomain};

const USAGES: [&str; 22] = [
    "any",
    "cert sign",
    "client auth",
    "code signing",
    "content commitment",
    "crl sign",
    "data encipherment",
    "decipher only",
    "digital signature",
    "email protection",
    "encipher only",
    "ipsec end system",
    "ipsec tunnel",
    "ipsec user",
    "key agreement",
    "key encipherment",
    "microsoft sgc",
    "netscape sgc",
    "ocsp signing",
    "s/mime",
    "server auth",
    "timestamping",
];

/// The shortest lifetime a request may ask for.
const MIN_EXPIRATION_SECONDS: i32 = 600;

/// `DOMAIN/PATH`: a DNS subdomain, a slash, and a non-empty path.
fn is_signer_name(name: &str) -> bool {
    name.split_once('/').is_some_and(|(domain, path)| {
        domain.contains('.') && is_dns1123_subdomain(domain).is_empty() && !path.is_empty()
    })
}

/// Validates a CertificateSigningRequest on create (`old` is `None`) or update.
pub fn certificate_signing_request(
    new: &CertificateSigningRequest,
    old: Option<&CertificateSigningRequest>,
) -> ErrorList {
    let mut errs = object_meta(
        &new.metadata,
        false,
        NameRule::PathSegment,
        old.map(|o| &o.metadata),
    );
    let path = Path::new("spec");
    let spec = &new.spec;
    let request = String::from_utf8_lossy(&spec.request.0);
    if spec.request.0.is_empty() {
        errs.push(FieldError::required(&path.child("request"), ""));
    } else if !request.contains("-----BEGIN CERTIFICATE REQUEST-----") {
        errs.push(FieldError::invalid_omitted(
            &path.child("request"),
            "PEM block type must be CERTIFICATE REQUEST",
        ));
    }
    let signer_path = path.child("signerName");
    if spec.signer_name.is_empty() {
        errs.push(FieldError::required(&signer_path, ""));
    } else if !is_signer_name(&spec.signer_name) {
        errs.push(FieldError::invalid(
            &signer_path,
            spec.signer_name.as_str(),
            "must be a fully qualified domain and path of the form 'example.com/signer-name'",
        ));
    }
    let usages_path = path.child("usages");
    match spec.usages.as_deref() {
        None | Some([]) => errs.push(FieldError::required(&usages_path, "")),
        Some(usages) => {
            for (i, usage) in usages.iter().enumerate() {
                if !USAGES.contains(&usage.as_str()) {
                    errs.push(FieldError::not_supported(
                        &usages_path.index(i),
                        usage.as_str(),
                        &USAGES,
                    ));
                }
            }
        }
    }
    if let Some(seconds) = spec
        .expiration_seconds
        .filter(|s| *s < MIN_EXPIRATION_SECONDS)
    {
        errs.push(FieldError::invalid(
            &path.child("expirationSeconds"),
            seconds,
            "may not specify a duration less than 600 seconds (10 minutes)",
        ));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::messages;
    use super::*;
    use k8s_openapi::ByteString;
    use k8s_openapi::api::certificates::v1::CertificateSigningRequestSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn request(
        pem: &str,
        signer: &str,
        usages: &[&str],
        seconds: Option<i32>,
    ) -> CertificateSigningRequest {
        CertificateSigningRequest {
            metadata: ObjectMeta {
                name: Some("alice".into()),
                ..Default::default()
            },
            spec: CertificateSigningRequestSpec {
                request: ByteString(pem.as_bytes().to_vec()),
                signer_name: signer.into(),
                usages: Some(usages.iter().map(|u| u.to_string()).collect()),
                expiration_seconds: seconds,
                ..Default::default()
            },
            status: None,
        }
    }

    #[test]
    fn request_signer_usages_and_lifetime() {
        let pem = "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n";
        let good = request(
            pem,
            "kubernetes.io/kube-apiserver-client",
            &["client auth"],
            None,
        );
        assert!(certificate_signing_request(&good, None).is_empty());
        let bad = request("junk", "example.com/x", &["flying"], Some(60));
        assert_eq!(
            messages(&certificate_signing_request(&bad, None)),
            vec![
                "spec.request: Invalid value: PEM block type must be CERTIFICATE REQUEST".to_string(),
                format!("spec.usages[0]: Unsupported value: \"flying\": supported values: {}", USAGES.iter().map(|u| format!("\"{u}\"")).collect::<Vec<_>>().join(", ")),
                "spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 600 seconds (10 minutes)".to_string(),
            ]
        );
    }
}
