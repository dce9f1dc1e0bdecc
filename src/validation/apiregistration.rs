//! APIServices (upstream's `kube-aggregator/pkg/apis/apiregistration/validation`): the name is
//! the group-version served, `VERSION.GROUP`; priorities order groups and versions in
//! discovery; a local APIService (no service) carries no TLS settings.

use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::{
    APIService, APIServiceSpec, APIServiceStatus,
};

use super::field::{ErrorList, FieldError, Path};
use super::go;
use super::meta::object_meta_revalidated;
use super::names::{NameRule, is_dns1035_label, is_dns1123_subdomain, is_valid_port_num};
use super::text;

const CONDITION_STATUSES: [&str; 3] = ["True", "False", "Unknown"];

/// Validates an APIService on create (`old` is `None`) or update, which checks everything a
/// create does again, as upstream's update validation does.
pub fn api_service(new: &APIService, old: Option<&APIService>) -> ErrorList {
    let default_spec = APIServiceSpec::default();
    let spec = new.spec.as_ref().unwrap_or(&default_spec);
    let mut errs = object_meta_revalidated(
        &new.metadata,
        false,
        NameRule::PathSegment,
        old.map(|o| &o.metadata),
    );
    errs.extend(name(text(&new.metadata.name), spec));
    errs.extend(spec_errors(spec));
    if let Some(status) = &new.status {
        errs.extend(status_errors(status));
    }
    errs
}

/// The name must be the group-version it serves, once it is a usable path segment at all.
fn name(name: &str, spec: &APIServiceSpec) -> Option<FieldError> {
    let required = format!("{}.{}", text(&spec.version), text(&spec.group));
    let usable = !name.is_empty() && NameRule::PathSegment.check(name, false).is_empty();
    (usable && name != required).then(|| {
        FieldError::invalid(
            &Path::new("metadata").child("name"),
            name,
            format!(
                "must be `spec.version+\".\"+spec.group`: {}",
                go::quote(&required)
            ),
        )
    })
}

fn spec_errors(spec: &APIServiceSpec) -> ErrorList {
    let path = Path::new("spec");
    let mut errs = ErrorList::new();
    let group = text(&spec.group);
    let version = text(&spec.version);
    if group.is_empty() && version != "v1" {
        errs.push(FieldError::required(
            &path.child("group"),
            "only v1 may have an empty group and it better be legacy kube",
        ));
    }
    if !group.is_empty() {
        errs.extend(
            is_dns1123_subdomain(group)
                .into_iter()
                .map(|m| FieldError::invalid(&path.child("group"), group, m)),
        );
    }
    errs.extend(
        is_dns1035_label(version)
            .into_iter()
            .map(|m| FieldError::invalid(&path.child("version"), version, m)),
    );
    let group_priority = spec.group_priority_minimum;
    if !(1..=20000).contains(&group_priority) {
        errs.push(FieldError::invalid(
            &path.child("groupPriorityMinimum"),
            group_priority,
            "must be positive and less than 20000",
        ));
    }
    let version_priority = spec.version_priority;
    if !(1..=1000).contains(&version_priority) {
        errs.push(FieldError::invalid(
            &path.child("versionPriority"),
            version_priority,
            "must be positive and less than 1000",
        ));
    }
    errs.extend(connection(spec, &path));
    errs
}

/// How the aggregator reaches the server: a local APIService has no TLS settings; a remote
/// one names its service and trusts either a CA bundle or, insecurely, anything.
fn connection(spec: &APIServiceSpec, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let ca_bundle = spec.ca_bundle.as_ref().map_or(0, |b| b.0.len());
    let insecure = spec.insecure_skip_tls_verify.unwrap_or(false);
    let Some(service) = &spec.service else {
        if ca_bundle != 0 {
            errs.push(FieldError::invalid(
                &path.child("caBundle"),
                format!("{ca_bundle} bytes"),
                "local APIServices may not have a caBundle",
            ));
        }
        if insecure {
            errs.push(FieldError::invalid(
                &path.child("insecureSkipTLSVerify"),
                insecure,
                "local APIServices may not have insecureSkipTLSVerify",
            ));
        }
        return errs;
    };
    let service_path = path.child("service");
    if text(&service.namespace).is_empty() {
        errs.push(FieldError::required(&service_path.child("namespace"), ""));
    }
    if text(&service.name).is_empty() {
        errs.push(FieldError::required(&service_path.child("name"), ""));
    }
    // Defaulting sets the port; an object stored without it reads as Go's zero.
    let port = service.port.unwrap_or(0);
    let port_errs = is_valid_port_num(i64::from(port));
    if !port_errs.is_empty() {
        errs.push(FieldError::invalid(
            &service_path.child("port"),
            port,
            format!("port is not valid: {}", port_errs.join(", ")),
        ));
    }
    if insecure && ca_bundle != 0 {
        errs.push(FieldError::invalid(
            &path.child("insecureSkipTLSVerify"),
            insecure,
            "may not be true if caBundle is present",
        ));
    }
    errs
}

fn status_errors(status: &APIServiceStatus) -> ErrorList {
    let path = Path::new("status").child("conditions");
    status
        .conditions
        .iter()
        .flatten()
        .enumerate()
        .filter(|(_, c)| !CONDITION_STATUSES.contains(&c.status.as_str()))
        .map(|(i, c)| {
            FieldError::not_supported(
                &path.index(i).child("status"),
                c.status.as_str(),
                &CONDITION_STATUSES,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::messages;
    use super::*;
    use k8s_openapi::ByteString;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::{
        APIServiceCondition, ServiceReference,
    };

    fn service(name: &str, group: &str, version: &str) -> APIService {
        APIService {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            spec: Some(APIServiceSpec {
                group: Some(group.into()),
                version: Some(version.into()),
                group_priority_minimum: 100,
                version_priority: 15,
                service: Some(ServiceReference {
                    namespace: Some("kube-system".into()),
                    name: Some("metrics-server".into()),
                    port: Some(443),
                }),
                ..Default::default()
            }),
            status: None,
        }
    }

    fn spec_of(service: &mut APIService) -> &mut APIServiceSpec {
        service.spec.as_mut().unwrap()
    }

    #[test]
    fn the_name_is_the_group_version() {
        let good = service("v1beta1.metrics.k8s.io", "metrics.k8s.io", "v1beta1");
        assert!(api_service(&good, None).is_empty());
        let wrong = service("v1.metrics.k8s.io", "metrics.k8s.io", "v1beta1");
        assert_eq!(
            messages(&api_service(&wrong, None)),
            [
                "metadata.name: Invalid value: \"v1.metrics.k8s.io\": must be `spec.version+\".\"+spec.group`: \"v1beta1.metrics.k8s.io\""
            ]
        );
        let unusable = service("v1/x", "metrics.k8s.io", "v1beta1");
        assert_eq!(
            messages(&api_service(&unusable, None)),
            ["metadata.name: Invalid value: \"v1/x\": may not contain '/'"]
        );
        let mut core = service("v1.", "", "v1");
        spec_of(&mut core).group = None;
        assert!(api_service(&core, None).is_empty());
        let mut no_group = service("v2.", "", "v2");
        spec_of(&mut no_group).group = None;
        assert_eq!(
            messages(&api_service(&no_group, None)),
            [
                "spec.group: Required value: only v1 may have an empty group and it better be legacy kube"
            ]
        );
    }

    #[test]
    fn priorities_have_bounds() {
        let mut out = service("v1.example.com", "example.com", "v1");
        spec_of(&mut out).group_priority_minimum = 0;
        spec_of(&mut out).version_priority = 1001;
        assert_eq!(
            messages(&api_service(&out, None)),
            [
                "spec.groupPriorityMinimum: Invalid value: 0: must be positive and less than 20000",
                "spec.versionPriority: Invalid value: 1001: must be positive and less than 1000",
            ]
        );
        let mut edge = service("v1.example.com", "example.com", "v1");
        spec_of(&mut edge).group_priority_minimum = 20000;
        spec_of(&mut edge).version_priority = 1000;
        assert!(api_service(&edge, None).is_empty());
    }

    #[test]
    fn services_and_tls_settings() {
        let mut both = service("v1.example.com", "example.com", "v1");
        spec_of(&mut both).ca_bundle = Some(ByteString(b"pem".to_vec()));
        spec_of(&mut both).insecure_skip_tls_verify = Some(true);
        spec_of(&mut both).service = Some(ServiceReference {
            namespace: None,
            name: Some(String::new()),
            port: Some(70000),
        });
        assert_eq!(
            messages(&api_service(&both, None)),
            [
                "spec.service.namespace: Required value",
                "spec.service.name: Required value",
                "spec.service.port: Invalid value: 70000: port is not valid: must be between 1 and 65535, inclusive",
                "spec.insecureSkipTLSVerify: Invalid value: true: may not be true if caBundle is present",
            ]
        );
        let mut local = service("v1.example.com", "example.com", "v1");
        spec_of(&mut local).service = None;
        spec_of(&mut local).ca_bundle = Some(ByteString(b"pem".to_vec()));
        spec_of(&mut local).insecure_skip_tls_verify = Some(true);
        assert_eq!(
            messages(&api_service(&local, None)),
            [
                "spec.caBundle: Invalid value: \"3 bytes\": local APIServices may not have a caBundle",
                "spec.insecureSkipTLSVerify: Invalid value: true: local APIServices may not have insecureSkipTLSVerify",
            ]
        );
    }

    #[test]
    fn condition_statuses_are_true_false_or_unknown() {
        let mut object = service("v1.example.com", "example.com", "v1");
        object.status = Some(APIServiceStatus {
            conditions: Some(vec![APIServiceCondition {
                type_: "Available".into(),
                status: "Maybe".into(),
                ..Default::default()
            }]),
        });
        assert_eq!(
            messages(&api_service(&object, None)),
            [
                "status.conditions[0].status: Unsupported value: \"Maybe\": supported values: \"True\", \"False\", \"Unknown\""
            ]
        );
    }
}
