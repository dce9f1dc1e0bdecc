//! CustomResourceDefinition defaults (apiextensions/v1's `SetDefaults_*`): the singular name is
//! the lower-cased kind, the list kind the kind plus `List`, versions are not converted unless
//! asked, and a conversion webhook's service listens on 443. Also the status the registry
//! strategy gives a definition on create and keeps on update, which records the storage
//! version among the stored ones.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceConversion, CustomResourceDefinition, CustomResourceDefinitionNames,
    CustomResourceDefinitionStatus,
};

use super::set_if_none;

pub fn custom_resource_definition(crd: &mut CustomResourceDefinition) {
    let spec = &mut crd.spec;
    let names = &mut spec.names;
    if names.singular.as_deref().is_none_or(str::is_empty) && !names.kind.is_empty() {
        names.singular = Some(names.kind.to_lowercase());
    }
    if names.list_kind.as_deref().is_none_or(str::is_empty) && !names.kind.is_empty() {
        names.list_kind = Some(format!("{}List", names.kind));
    }
    set_if_none(
        &mut spec.conversion,
        CustomResourceConversion {
            strategy: "None".to_string(),
            webhook: None,
        },
    );
    if let Some(service) = spec
        .conversion
        .as_mut()
        .and_then(|c| c.webhook.as_mut())
        .and_then(|w| w.client_config.as_mut())
        .and_then(|c| c.service.as_mut())
    {
        set_if_none(&mut service.port, 443);
    }
    let recorded = crd
        .status
        .as_ref()
        .and_then(|s| s.stored_versions.as_ref())
        .is_some_and(|v| !v.is_empty());
    if !recorded && let Some(storage) = storage_version(crd) {
        crd.status
            .get_or_insert_with(Default::default)
            .stored_versions = Some(vec![storage]);
    }
}

/// A new definition starts with an empty status (its names are not accepted yet) whose only
/// stored version is the storage version.
pub fn prepare_create(crd: &mut CustomResourceDefinition) {
    crd.status = Some(CustomResourceDefinitionStatus {
        accepted_names: Some(CustomResourceDefinitionNames::default()),
        conditions: None,
        stored_versions: storage_version(crd).map(|name| vec![name]),
    });
}

/// An update adds the (possibly new) storage version to the stored versions, so that objects
/// written from now on are accounted for; the status is otherwise the stored one, as the
/// handlers keep it for every kind with a status subresource.
pub fn prepare_update(crd: &mut CustomResourceDefinition) {
    if let Some(storage) = storage_version(crd) {
        let status = crd.status.get_or_insert_with(Default::default);
        let stored = status.stored_versions.get_or_insert_with(Vec::new);
        if !stored.contains(&storage) {
            stored.push(storage);
        }
    }
}

/// The name of the first version marked for storage.
fn storage_version(crd: &CustomResourceDefinition) -> Option<String> {
    crd.spec
        .versions
        .iter()
        .find(|v| v.storage)
        .map(|v| v.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn crontab() -> CustomResourceDefinition {
        serde_json::from_value(json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "crontabs.stable.example.com"},
            "spec": {
                "group": "stable.example.com",
                "scope": "Namespaced",
                "names": {"plural": "crontabs", "kind": "CronTab"},
                "versions": [
                    {"name": "v1beta1", "served": true, "storage": false},
                    {"name": "v1", "served": true, "storage": true}
                ]
            },
            "status": {
                "acceptedNames": {"plural": "crontabs", "kind": "CronTab"},
                "conditions": [{"type": "Established", "status": "True"}],
                "storedVersions": ["v1beta1"]
            }
        }))
        .expect("a CustomResourceDefinition")
    }

    #[test]
    fn names_and_conversion() {
        let mut crd = crontab();
        custom_resource_definition(&mut crd);
        assert_eq!(crd.spec.names.singular.as_deref(), Some("crontab"));
        assert_eq!(crd.spec.names.list_kind.as_deref(), Some("CronTabList"));
        let conversion = crd.spec.conversion.as_ref().expect("a conversion");
        assert_eq!(conversion.strategy, "None");
        assert!(conversion.webhook.is_none());
        // Stored versions that are recorded stay as they are.
        let stored = crd.status.as_ref().and_then(|s| s.stored_versions.clone());
        assert_eq!(stored, Some(vec!["v1beta1".to_string()]));
    }

    #[test]
    fn given_values_are_kept() {
        let mut crd = crontab();
        crd.spec.names.singular = Some("tab".into());
        crd.spec.names.list_kind = Some("Tabs".into());
        crd.spec.conversion = Some(
            serde_json::from_value(json!({
                "strategy": "Webhook",
                "webhook": {
                    "conversionReviewVersions": ["v1"],
                    "clientConfig": {"service": {"name": "conv", "namespace": "crontab"}}
                }
            }))
            .expect("a conversion"),
        );
        custom_resource_definition(&mut crd);
        assert_eq!(crd.spec.names.singular.as_deref(), Some("tab"));
        assert_eq!(crd.spec.names.list_kind.as_deref(), Some("Tabs"));
        let service = crd
            .spec
            .conversion
            .as_ref()
            .and_then(|c| c.webhook.as_ref())
            .and_then(|w| w.client_config.as_ref())
            .and_then(|c| c.service.as_ref())
            .expect("a service");
        assert_eq!(service.port, Some(443));
    }

    #[test]
    fn stored_versions_start_with_the_storage_version() {
        let mut crd = crontab();
        crd.status = None;
        custom_resource_definition(&mut crd);
        let stored = crd.status.as_ref().and_then(|s| s.stored_versions.clone());
        assert_eq!(stored, Some(vec!["v1".to_string()]));
    }

    #[test]
    fn creation_resets_the_status() {
        let mut crd = crontab();
        prepare_create(&mut crd);
        let status = crd.status.expect("a status");
        assert_eq!(status.accepted_names, Some(Default::default()));
        assert_eq!(status.conditions, None);
        assert_eq!(status.stored_versions, Some(vec!["v1".to_string()]));
        assert_eq!(
            serde_json::to_value(&status.accepted_names).expect("names"),
            json!({"kind": "", "plural": ""})
        );
    }

    #[test]
    fn updates_record_the_storage_version() {
        let old = crontab();
        let mut new = old.clone();
        prepare_update(&mut new);
        let status = new.status.expect("a status");
        assert_eq!(status.conditions, old.status.and_then(|s| s.conditions));
        assert_eq!(
            status.stored_versions,
            Some(vec!["v1beta1".to_string(), "v1".to_string()])
        );
    }
}
