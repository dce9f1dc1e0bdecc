//! Valid, defaulted objects for the tests to break one field at a time.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::field::ErrorList;

/// A pod spec as defaulting leaves `{"containers":[{"name":"web","image":"nginx"}]}`.
pub fn valid_spec() -> PodSpec {
    PodSpec {
        containers: vec![Container {
            name: "web".into(),
            image: Some("nginx".into()),
            image_pull_policy: Some("Always".into()),
            termination_message_path: Some("/dev/termination-log".into()),
            termination_message_policy: Some("File".into()),
            ..Default::default()
        }],
        restart_policy: Some("Always".into()),
        dns_policy: Some("ClusterFirst".into()),
        termination_grace_period_seconds: Some(30),
        scheduler_name: Some("default-scheduler".into()),
        security_context: Some(Default::default()),
        ..Default::default()
    }
}

pub fn app_labels() -> BTreeMap<String, String> {
    BTreeMap::from([("app".to_string(), "web".to_string())])
}

pub fn app_selector() -> LabelSelector {
    LabelSelector {
        match_labels: Some(app_labels()),
        match_expressions: None,
    }
}

/// A template labelled `app=web` around [`valid_spec`].
pub fn valid_template() -> PodTemplateSpec {
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(app_labels()),
            ..Default::default()
        }),
        spec: Some(valid_spec()),
    }
}

pub fn namespaced_meta(name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: Some("default".into()),
        ..Default::default()
    }
}

/// The stored form of `meta`, as an update finds it.
pub fn stored(mut meta: ObjectMeta) -> ObjectMeta {
    meta.resource_version = Some("1".into());
    meta.uid = Some("5f6e1c3a-0000-4000-8000-000000000001".into());
    meta
}

pub fn messages(errs: &ErrorList) -> Vec<String> {
    errs.iter().map(ToString::to_string).collect()
}
