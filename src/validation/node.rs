//! RuntimeClasses (upstream's `pkg/apis/node/validation`): the container runtime handler a
//! class selects, fixed once the class exists, the pod overhead it adds, and where its pods may
//! be scheduled.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{ResourceRequirements, Toleration};
use k8s_openapi::api::node::v1::{Overhead, RuntimeClass, Scheduling};

use super::field::{ErrorList, FieldError, Path};
use super::go::{self, Rendered};
use super::meta::{immutable, labels};
use super::names::{NameRule, is_dns1123_label};
use super::pod_spec::tolerations;

use super::meta::object_meta_of_write;
use super::resources::container_requirements;
use super::{opt_slice, text};

/// Validates a RuntimeClass on create (`old` is `None`) or update.
pub fn runtime_class(new: &RuntimeClass, old: Option<&RuntimeClass>) -> ErrorList {
    let mut errs = object_meta_of_write(
        &new.metadata,
        false,
        NameRule::DnsSubdomain,
        old.map(|o| &o.metadata),
    );
    errs.extend(handler(&new.handler));
    if let Some(overhead) = &new.overhead {
        errs.extend(pod_overhead(overhead, &Path::new("overhead")));
    }
    if let Some(s) = &new.scheduling {
        errs.extend(scheduling(s, &Path::new("scheduling")));
    }
    if let Some(old) = old {
        errs.extend(immutable(
            new.handler.as_str(),
            old.handler.as_str(),
            &Path::new("handler"),
        ));
    }
    errs
}

/// The handler names a runtime configured in the CRI implementation, so it must be a DNS label;
/// an empty one is reported by the same rule rather than as missing, as upstream does.
fn handler(handler: &str) -> ErrorList {
    let path = Path::new("handler");
    is_dns1123_label(handler)
        .into_iter()
        .map(|m| FieldError::invalid(&path, handler, m))
        .collect()
}

/// The fixed overhead is checked as if it were a container's limits, so its errors are
/// reported under `overhead.limits`, as upstream reports them.
fn pod_overhead(overhead: &Overhead, path: &Path) -> ErrorList {
    let requirements = ResourceRequirements {
        limits: overhead.pod_fixed.clone(),
        ..Default::default()
    };
    container_requirements(Some(&requirements), path)
}

/// Pods of the class get its node selector and tolerations merged into theirs, so both follow
/// the pod rules, and a toleration may appear only once.
fn scheduling(scheduling: &Scheduling, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if let Some(selector) = &scheduling.node_selector {
        errs.extend(labels(Some(selector), &path.child("nodeSelector")));
    }
    let list = opt_slice(&scheduling.tolerations);
    let tolerations_path = path.child("tolerations");
    errs.extend(tolerations(list, &tolerations_path));
    let mut seen = BTreeSet::new();
    for (i, toleration) in list.iter().enumerate() {
        let key = (
            text(&toleration.key),
            text(&toleration.operator),
            text(&toleration.value),
            text(&toleration.effect),
        );
        if !seen.insert(key) {
            errs.push(FieldError::duplicate(
                &tolerations_path.index(i),
                toleration_value(toleration),
            ));
        }
    }
    errs
}

/// `%#v` of upstream's internal toleration.
fn toleration_value(toleration: &Toleration) -> Rendered {
    Rendered(format!(
        "core.Toleration{{Key:{}, Operator:{}, Value:{}, Effect:{}, TolerationSeconds:{}}}",
        go::quote(text(&toleration.key)),
        go::quote(text(&toleration.operator)),
        go::quote(text(&toleration.value)),
        go::quote(text(&toleration.effect)),
        go::pointer("int64", toleration.toleration_seconds.is_some())
    ))
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{messages, stored};
    use super::*;
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use std::collections::BTreeMap;

    fn gpu_toleration() -> Toleration {
        Toleration {
            key: Some("nvidia.com/gpu".into()),
            operator: Some("Exists".into()),
            effect: Some("NoSchedule".into()),
            ..Default::default()
        }
    }

    fn valid_class() -> RuntimeClass {
        RuntimeClass {
            metadata: ObjectMeta {
                name: Some("gvisor".into()),
                ..Default::default()
            },
            handler: "runsc".into(),
            overhead: Some(Overhead {
                pod_fixed: Some(BTreeMap::from([
                    ("cpu".to_string(), Quantity("250m".into())),
                    ("memory".to_string(), Quantity("120Mi".into())),
                ])),
            }),
            scheduling: Some(Scheduling {
                node_selector: Some(BTreeMap::from([(
                    "runtime".to_string(),
                    "gvisor".to_string(),
                )])),
                tolerations: Some(vec![gpu_toleration()]),
            }),
        }
    }

    #[test]
    fn a_valid_class_passes() {
        assert!(runtime_class(&valid_class(), None).is_empty());
    }

    #[test]
    fn handlers_are_dns_labels() {
        let mut c = valid_class();
        c.handler = "Runsc".into();
        assert_eq!(
            messages(&runtime_class(&c, None)),
            vec![
                "handler: Invalid value: \"Runsc\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
            ]
        );
        c.handler = String::new();
        assert_eq!(runtime_class(&c, None).len(), 1);
    }

    #[test]
    fn overhead_and_scheduling() {
        let mut c = valid_class();
        c.overhead = Some(Overhead {
            pod_fixed: Some(BTreeMap::from([("cpu".to_string(), Quantity("-1".into()))])),
        });
        c.scheduling = Some(Scheduling {
            node_selector: Some(BTreeMap::from([(
                "runtime".to_string(),
                "-bad".to_string(),
            )])),
            tolerations: Some(vec![gpu_toleration(), gpu_toleration()]),
        });
        let errs = messages(&runtime_class(&c, None));
        assert_eq!(errs.len(), 3);
        assert_eq!(
            errs[0],
            "overhead.limits[cpu]: Invalid value: \"-1\": must be greater than or equal to 0"
        );
        assert!(errs[1].starts_with(
            "scheduling.nodeSelector: Invalid value: \"-bad\": a valid label must be an empty string"
        ));
        assert_eq!(
            errs[2],
            "scheduling.tolerations[1]: Duplicate value: core.Toleration{Key:\"nvidia.com/gpu\", Operator:\"Exists\", Value:\"\", Effect:\"NoSchedule\", TolerationSeconds:(*int64)(nil)}"
        );
    }

    #[test]
    fn the_handler_is_fixed() {
        let old = RuntimeClass {
            metadata: stored(valid_class().metadata),
            ..valid_class()
        };
        let mut new = old.clone();
        new.overhead = None;
        assert!(runtime_class(&new, Some(&old)).is_empty());
        new.handler = "crun".into();
        assert_eq!(
            messages(&runtime_class(&new, Some(&old))),
            vec!["handler: Invalid value: \"crun\": field is immutable"]
        );
    }
}
