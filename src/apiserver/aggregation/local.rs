//! Local APIServices, as upstream's autoregister and crdregistration controllers make them:
//! one per built-in group-version this server serves, made (or put right) at every start and
//! labelled `onstart`, and one per group-version a CRD serves, labelled `true`, made and
//! removed as CRDs come and go. Their priorities order discovery; the availability controller
//! marks them available.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::{APIService, APIServiceSpec};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::{ApiServices, MANAGED_LABEL, Registered, Registry};
use crate::crd::{Catalog, Crds};
use crate::registry::BUILT_IN;

/// Upstream's group and version priorities of the built-in group-versions mkc serves
/// (`apiVersionPriorities`). The aggregator's own group has no APIService.
const PRIORITIES: [(&str, &str, i32, i32); 19] = [
    ("", "v1", 18000, 1),
    ("apps", "v1", 17800, 15),
    ("authentication.k8s.io", "v1", 17700, 15),
    ("authorization.k8s.io", "v1", 17600, 15),
    ("autoscaling", "v2", 17500, 30),
    ("autoscaling", "v1", 17500, 15),
    ("batch", "v1", 17400, 15),
    ("certificates.k8s.io", "v1", 17300, 15),
    ("networking.k8s.io", "v1", 17200, 15),
    ("policy", "v1", 17100, 15),
    ("rbac.authorization.k8s.io", "v1", 17000, 15),
    ("storage.k8s.io", "v1", 16800, 15),
    ("apiextensions.k8s.io", "v1", 16700, 15),
    ("admissionregistration.k8s.io", "v1", 16700, 15),
    ("scheduling.k8s.io", "v1", 16600, 15),
    ("coordination.k8s.io", "v1", 16500, 15),
    ("node.k8s.io", "v1", 16300, 15),
    ("discovery.k8s.io", "v1", 16200, 15),
    ("flowcontrol.apiserver.k8s.io", "v1", 16100, 21),
];

/// CRDs' groups rank low; their versions all share one priority and so sort among themselves
/// as kube-like versions, as upstream's crdregistration controller sets them.
const CRD_PRIORITIES: (i32, i32) = (1000, 100);

/// The labels of the two kinds of local APIServices.
const ON_START: &str = "onstart";
const KEPT: &str = "true";

/// How long a change that failed waits before it is tried again.
const RETRY: Duration = Duration::from_secs(1);

/// The local APIServices of the built-in group-versions, for the server's start.
pub fn built_in() -> Vec<APIService> {
    BUILT_IN
        .group_versions()
        .into_iter()
        .filter_map(|(group, version)| {
            let &(_, _, group_priority, version_priority) = PRIORITIES
                .iter()
                .find(|(g, v, _, _)| *g == group && *v == version)?;
            Some(local(
                group,
                version,
                (group_priority, version_priority),
                ON_START,
            ))
        })
        .collect()
}

fn local(group: &str, version: &str, priorities: (i32, i32), managed: &str) -> APIService {
    APIService {
        metadata: ObjectMeta {
            name: Some(format!("{version}.{group}")),
            labels: Some(BTreeMap::from([(
                MANAGED_LABEL.to_owned(),
                managed.to_owned(),
            )])),
            ..Default::default()
        },
        spec: Some(APIServiceSpec {
            group: (!group.is_empty()).then(|| group.to_owned()),
            version: Some(version.to_owned()),
            group_priority_minimum: priorities.0,
            version_priority: priorities.1,
            ..Default::default()
        }),
        status: None,
    }
}

/// Keeps one local APIService per group-version the CRDs serve until `shutdown`, writing
/// through the API.
pub async fn register_crds(
    crds: Arc<Catalog>,
    apiservices: Arc<Registry>,
    client: kube::Client,
    shutdown: CancellationToken,
) {
    let api: Api<APIService> = Api::all(client);
    let mut crd_changes = crds.changes();
    let mut own_changes = apiservices.changes();
    // Nothing is removed before both are known: an empty first view would remove them all.
    crds.loaded().await;
    apiservices.loaded().await;
    loop {
        let mut failed = false;
        for change in plan(&served_by_crds(&crds.get()), &apiservices.get()) {
            if let Err(error) = apply(&api, &change).await {
                failed = true;
                tracing::warn!(%error, ?change, "keeping a CRD's APIService failed; retrying");
            }
        }
        tokio::select! {
            changed = crd_changes.changed() => if changed.is_err() { return },
            changed = own_changes.changed() => if changed.is_err() { return },
            () = tokio::time::sleep(RETRY), if failed => {}
            () = shutdown.cancelled() => return,
        }
    }
}

/// The group-versions the CRDs serve, those being deleted included, as upstream's
/// controller counts them until they are gone.
fn served_by_crds(crds: &Crds) -> BTreeSet<(String, String)> {
    crds.definitions
        .iter()
        .flat_map(|definition| {
            let spec = &definition.crd.spec;
            let served = spec.versions.iter().filter(|v| v.served);
            served.map(move |v| (spec.group.clone(), v.name.clone()))
        })
        .collect()
}

/// What brings the CRDs' APIServices in line with `wanted`.
#[derive(Debug, PartialEq)]
enum Change {
    Create(APIService),
    /// One of ours whose spec was changed: the wanted one is put back.
    Correct(APIService),
    Delete(String),
}

/// The fewest changes that leave one of our APIServices per wanted group-version and none
/// for others. An APIService of the same name someone else made is left alone.
fn plan(wanted: &BTreeSet<(String, String)>, held: &ApiServices) -> Vec<Change> {
    let mut changes = Vec::new();
    for (group, version) in wanted {
        let desired = local(group, version, CRD_PRIORITIES, KEPT);
        let name = format!("{version}.{group}");
        match held.get(&name) {
            None => changes.push(Change::Create(desired)),
            Some(current) if current.managed.as_deref() == Some(KEPT) => {
                // Its status aside, which the availability controller keeps.
                let spec_only = Registered {
                    conditions: Vec::new(),
                    ..current.clone()
                };
                if spec_only != Registered::from(desired.clone()) {
                    changes.push(Change::Correct(desired));
                }
            }
            Some(_) => {}
        }
    }
    for current in held.all() {
        let key = (current.group.clone(), current.version.clone());
        if current.managed.as_deref() == Some(KEPT) && !wanted.contains(&key) {
            changes.push(Change::Delete(current.name.clone()));
        }
    }
    changes
}

async fn apply(api: &Api<APIService>, change: &Change) -> Result<(), kube::Error> {
    let outcome = match change {
        Change::Create(service) => api.create(&PostParams::default(), service).await.map(drop),
        Change::Correct(service) => {
            let mut spec = json!(service.spec);
            for cleared in ["service", "caBundle", "insecureSkipTLSVerify"] {
                spec[cleared] = Value::Null;
            }
            let name = service.metadata.name.as_deref().unwrap_or_default();
            let patch = json!({"spec": spec});
            let params = PatchParams::default();
            api.patch(name, &params, &Patch::Merge(&patch))
                .await
                .map(drop)
        }
        Change::Delete(name) => api.delete(name, &DeleteParams::default()).await.map(drop),
    };
    match outcome {
        // Made or removed meanwhile: the next view of the store decides again.
        Err(kube::Error::Api(status)) if status.code == 404 || status.code == 409 => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIServiceCondition;

    fn held(services: Vec<APIService>) -> ApiServices {
        ApiServices {
            all: services.into_iter().map(Registered::from).collect(),
        }
    }

    fn wanted(group_versions: &[(&str, &str)]) -> BTreeSet<(String, String)> {
        group_versions
            .iter()
            .map(|(g, v)| (g.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_built_in_group_version_but_the_aggregator_s_has_its_priorities() {
        let made: Vec<String> = built_in()
            .iter()
            .map(|s| s.metadata.name.clone().unwrap())
            .collect();
        let served = BUILT_IN.group_versions();
        assert_eq!(made.len(), served.len() - 1, "{made:?}");
        assert_eq!(made.len(), PRIORITIES.len());
        assert!(made.contains(&"v1.".to_string()));
        assert!(made.contains(&"v1.apps".to_string()));
        assert!(!made.contains(&"v1.apiregistration.k8s.io".to_string()));
        let apps = built_in()
            .into_iter()
            .find(|s| s.metadata.name.as_deref() == Some("v1.apps"));
        let spec = apps.unwrap().spec.unwrap();
        assert_eq!(
            (spec.group_priority_minimum, spec.version_priority),
            (17800, 15)
        );
        let core = built_in().into_iter().next().unwrap();
        assert_eq!(core.spec.unwrap().group, None);
        assert_eq!(core.metadata.labels.unwrap()[MANAGED_LABEL], ON_START);
    }

    #[test]
    fn crd_group_versions_get_an_apiservice_of_their_own_and_lose_it_with_them() {
        let ours = |g: &str, v: &str| local(g, v, CRD_PRIORITIES, KEPT);
        let mut changed = ours("fix.example.com", "v1");
        changed.spec.as_mut().unwrap().group_priority_minimum = 5;
        let mut available = ours("example.com", "v1");
        available.status = Some(Default::default());
        available.status.as_mut().unwrap().conditions = Some(vec![APIServiceCondition {
            type_: "Available".into(),
            status: "True".into(),
            ..Default::default()
        }]);
        let mut users = ours("user.example.com", "v1");
        users.metadata.labels = None;
        let services = held(vec![
            available,
            changed,
            ours("gone.example.com", "v1"),
            local("apps", "v1", (17800, 15), ON_START),
            users,
        ]);
        let changes = plan(
            &wanted(&[
                ("example.com", "v1"),
                ("example.com", "v2"),
                ("fix.example.com", "v1"),
                ("user.example.com", "v1"),
            ]),
            &services,
        );
        assert_eq!(
            changes,
            [
                Change::Create(ours("example.com", "v2")),
                Change::Correct(ours("fix.example.com", "v1")),
                Change::Delete("v1.gone.example.com".into()),
            ]
        );
    }
}
