//! What upstream's apiextensions controllers do inside the API server: each CRD's status
//! tells what the catalog concluded (`NamesAccepted`, `Established`, the accepted names), and
//! a deleted CRD's objects are removed before its cleanup finalizer is, so that deleting a CRD
//! deletes what it defined. The task follows the catalog and writes through the API.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, CustomResourceDefinitionCondition, CustomResourceDefinitionStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::catalog::{Catalog, Definition};

/// The finalizer that holds a deleted CRD until its objects are gone.
pub const CLEANUP_FINALIZER: &str = "customresourcecleanup.apiextensions.k8s.io";

/// How long a deleted CRD whose objects are still held (by their own finalizers) waits before
/// it is looked at again.
const CLEANUP_RETRY: Duration = Duration::from_secs(1);

/// Keeps every CRD's status and cleanup in step with `catalog` until `shutdown`.
pub async fn run(catalog: Arc<Catalog>, client: kube::Client, shutdown: CancellationToken) {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let mut changes = catalog.changes();
    loop {
        let crds_now = catalog.get();
        let mut pending = false;
        for definition in &crds_now.definitions {
            let outcome = if definition.deleting() {
                clean_up(&crds, &client, definition).await
            } else {
                write_status(&crds, definition).await.map(|()| true)
            };
            match outcome {
                Ok(done) => pending |= !done,
                Err(error) => {
                    pending = true;
                    tracing::warn!(crd = definition.name(), %error, "keeping a CRD in step failed; retrying");
                }
            }
        }
        tokio::select! {
            changed = changes.changed() => if changed.is_err() { return },
            () = tokio::time::sleep(CLEANUP_RETRY), if pending => {}
            () = shutdown.cancelled() => return,
        }
    }
}

/// Writes the status the catalog's conclusion calls for, unless the CRD has it already.
async fn write_status(
    crds: &Api<CustomResourceDefinition>,
    definition: &Definition,
) -> Result<(), kube::Error> {
    let current = definition.crd.status.clone().unwrap_or_default();
    let mut wanted = current.clone();
    let (names, established) = match &definition.accepted {
        Ok(names) => (
            condition("NamesAccepted", "True", "NoConflicts", "no conflicts found"),
            Some(names.clone()),
        ),
        Err(conflict) => (
            condition("NamesAccepted", "False", "NameConflict", conflict),
            None,
        ),
    };
    set_condition(&mut wanted, names);
    if let Some(names) = established {
        wanted.accepted_names = Some(names);
        set_condition(
            &mut wanted,
            condition(
                "Established",
                "True",
                "InitialNamesAccepted",
                "the initial names have been accepted",
            ),
        );
    }
    if wanted == current {
        return Ok(());
    }
    let patch = json!({"status": wanted});
    crds.patch_status(
        definition.name(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await?;
    Ok(())
}

/// Deletes the objects of a deleted CRD and then lets the CRD go; `Ok(false)` while some
/// objects are still held by finalizers of their own.
async fn clean_up(
    crds: &Api<CustomResourceDefinition>,
    client: &kube::Client,
    definition: &Definition,
) -> Result<bool, kube::Error> {
    let finalizers = definition
        .crd
        .metadata
        .finalizers
        .clone()
        .unwrap_or_default();
    if !finalizers.iter().any(|f| f == CLEANUP_FINALIZER) {
        return Ok(true);
    }
    let mut status = definition.crd.status.clone().unwrap_or_default();
    let terminating = condition(
        "Terminating",
        "True",
        "InstanceDeletionInProgress",
        "CustomResource deletion is in progress",
    );
    if set_condition(&mut status, terminating) {
        let patch = json!({"status": status});
        crds.patch_status(
            definition.name(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await?;
    }
    if let Some(resource) = definition.storage {
        let objects: Api<DynamicObject> = Api::all_with(client.clone(), &resource.api_resource());
        objects
            .delete_collection(&DeleteParams::default(), &ListParams::default())
            .await?;
        if !objects
            .list(&ListParams::default().limit(1))
            .await?
            .items
            .is_empty()
        {
            return Ok(false);
        }
    }
    let remaining: Vec<String> = finalizers
        .into_iter()
        .filter(|f| f != CLEANUP_FINALIZER)
        .collect();
    let patch = json!({"metadata": {
        "finalizers": remaining,
        "resourceVersion": definition.crd.metadata.resource_version,
    }});
    crds.patch(
        definition.name(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await?;
    Ok(true)
}

fn condition(
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
) -> CustomResourceDefinitionCondition {
    CustomResourceDefinitionCondition {
        type_: type_.to_owned(),
        status: status.to_owned(),
        reason: Some(reason.to_owned()),
        message: Some(message.to_owned()),
        last_transition_time: Some(Time(jiff::Timestamp::now())),
    }
}

/// Puts `wanted` among the status's conditions, keeping the transition time of one whose
/// status stays; whether anything changed.
fn set_condition(
    status: &mut CustomResourceDefinitionStatus,
    mut wanted: CustomResourceDefinitionCondition,
) -> bool {
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    match conditions.iter_mut().find(|c| c.type_ == wanted.type_) {
        Some(held) => {
            if held.status == wanted.status {
                wanted.last_transition_time = held.last_transition_time.clone();
            }
            let changed = *held != wanted;
            *held = wanted;
            changed
        }
        None => {
            conditions.push(wanted);
            true
        }
    }
}
