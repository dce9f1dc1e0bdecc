//! The autoscaling/v1 Scale a `scale` subresource reads and writes, and where an object keeps
//! what it shows. Built-in kinds keep the replicas at `spec.replicas` and `status.replicas` and
//! select their pods with `spec.selector`; a custom resource keeps them where its CRD's scale
//! subresource says (`specReplicasPath`, `statusReplicasPath`, `labelSelectorPath`).

use std::collections::BTreeMap;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceSubresourceScale;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde_json::{Value, json};

/// Where a custom resource keeps what its Scale shows, as paths of field names.
#[derive(Debug, Clone)]
pub struct ScalePaths {
    spec_replicas: Vec<String>,
    status_replicas: Vec<String>,
    label_selector: Option<Vec<String>>,
}

impl ScalePaths {
    /// The paths a CRD version's scale subresource names (simple JSON paths, `.spec.size`, as
    /// its validation requires).
    pub fn of_crd(scale: &CustomResourceSubresourceScale) -> Self {
        let fields = |path: &str| {
            path.split('.')
                .filter(|f| !f.is_empty())
                .map(str::to_owned)
                .collect()
        };
        ScalePaths {
            spec_replicas: fields(&scale.spec_replicas_path),
            status_replicas: fields(&scale.status_replicas_path),
            label_selector: scale.label_selector_path.as_deref().map(fields),
        }
    }
}

/// The Scale of `object`; `paths` is `None` for built-in kinds.
pub fn view(object: &Value, paths: Option<&ScalePaths>) -> Value {
    let (spec_replicas, status_replicas, selector) = match paths {
        Some(paths) => (
            at(object, &paths.spec_replicas).as_i64(),
            at(object, &paths.status_replicas).as_i64(),
            paths
                .label_selector
                .as_ref()
                .and_then(|path| at(object, path).as_str().map(str::to_owned)),
        ),
        None => (
            object["spec"]["replicas"].as_i64(),
            object["status"]["replicas"].as_i64(),
            Some(selector_text(&object["spec"]["selector"])),
        ),
    };
    let metadata = &object["metadata"];
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": metadata["name"],
            "namespace": metadata["namespace"],
            "uid": metadata["uid"],
            "resourceVersion": metadata["resourceVersion"],
            "creationTimestamp": metadata["creationTimestamp"],
        },
        "spec": {"replicas": spec_replicas.unwrap_or(0)},
        "status": {
            "replicas": status_replicas.unwrap_or(0),
            "selector": selector.unwrap_or_default(),
        },
    })
}

/// Sets the replicas of `object` to `replicas`, making the fields on the way as needed.
pub fn set_replicas(object: &mut Value, replicas: i64, paths: Option<&ScalePaths>) {
    let built_in = ["spec".to_owned(), "replicas".to_owned()];
    let path = paths.map_or(&built_in[..], |p| &p.spec_replicas);
    let mut value = object;
    for field in path {
        if !value.is_object() {
            *value = json!({});
        }
        value = &mut value[field.as_str()];
    }
    *value = json!(replicas);
}

fn at<'v>(object: &'v Value, path: &[String]) -> &'v Value {
    path.iter()
        .fold(object, |value, field| &value[field.as_str()])
}

/// A built-in kind's selector as label selector text: a ReplicationController's map of labels,
/// or the LabelSelector of the others.
fn selector_text(selector: &Value) -> String {
    let selector = match serde_json::from_value::<BTreeMap<String, String>>(selector.clone()) {
        Ok(labels) => Some(LabelSelector {
            match_labels: Some(labels),
            ..LabelSelector::default()
        }),
        Err(_) => serde_json::from_value::<LabelSelector>(selector.clone()).ok(),
    };
    crate::printers::selector_text(selector.as_ref()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_kinds_keep_replicas_in_spec_and_status() {
        let deployment = json!({"metadata": {"name": "web"}, "spec": {"replicas": 3,
            "selector": {"matchLabels": {"app": "web"}}}, "status": {"replicas": 2}});
        let scale = view(&deployment, None);
        assert_eq!(scale["spec"]["replicas"], 3);
        assert_eq!(
            scale["status"],
            json!({"replicas": 2, "selector": "app=web"})
        );
        let controller = json!({"spec": {"replicas": 1, "selector": {"app": "old"}}});
        assert_eq!(view(&controller, None)["status"]["selector"], "app=old");
    }

    #[test]
    fn a_custom_resource_keeps_them_where_its_crd_says() {
        let paths = ScalePaths::of_crd(&CustomResourceSubresourceScale {
            spec_replicas_path: ".spec.size".into(),
            status_replicas_path: ".status.members.ready".into(),
            label_selector_path: Some(".status.selector".into()),
        });
        let mut cluster = json!({"spec": {"size": 3},
            "status": {"members": {"ready": 1}, "selector": "app=db"}});
        let scale = view(&cluster, Some(&paths));
        assert_eq!(scale["spec"]["replicas"], 3);
        assert_eq!(
            scale["status"],
            json!({"replicas": 1, "selector": "app=db"})
        );
        set_replicas(&mut cluster, 5, Some(&paths));
        assert_eq!(cluster["spec"]["size"], 5);
        let mut empty = json!({});
        set_replicas(&mut empty, 2, Some(&paths));
        assert_eq!(empty, json!({"spec": {"size": 2}}));
    }
}
