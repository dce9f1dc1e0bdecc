//! The namespace controller: a namespace being deleted has everything in it deleted (every
//! namespaced resource discovery lists, custom ones included), and when
//! nothing is left its `kubernetes` finalizer is removed through `namespaces/<name>/finalize`,
//! which lets the API server remove the namespace itself.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, PostParams};
use kube::discovery::{Discovery, Scope, verbs};
use kube::runtime::controller::Action;
use kube::{Client, ResourceExt};
use tokio_util::sync::CancellationToken;

use super::ReconcileError as Error;
use super::informers::Informers;

const FINALIZER: &str = "kubernetes";
/// How soon a namespace whose contents are still going away is looked at again.
const RECHECK: Duration = Duration::from_millis(500);

struct Context {
    client: Client,
}

pub fn start(
    client: &Client,
    informers: &mut Informers,
    shutdown: CancellationToken,
) -> impl Future<Output = ()> + use<> {
    let context = Arc::new(Context {
        client: client.clone(),
    });
    let (controller, synced) = informers.namespaces.controller(shutdown);
    synced.run(controller, reconcile, error_policy, context)
}

async fn reconcile(namespace: Arc<Namespace>, ctx: Arc<Context>) -> Result<Action, Error> {
    let holds_finalizer = namespace
        .spec
        .as_ref()
        .and_then(|s| s.finalizers.as_ref())
        .is_some_and(|f| f.iter().any(|f| f == FINALIZER));
    if namespace.metadata.deletion_timestamp.is_none() || !holds_finalizer {
        return Ok(Action::await_change());
    }
    let name = namespace.name_any();
    if delete_contents(&ctx.client, &name).await? > 0 {
        return Ok(Action::requeue(RECHECK));
    }
    finalize(&ctx.client, &namespace).await?;
    Ok(Action::await_change())
}

/// Deletes what is left in the namespace and returns how many objects remain. What there is
/// to delete is read from discovery, as upstream's controller reads it, so custom resources
/// go with the built-in ones.
async fn delete_contents(client: &Client, namespace: &str) -> Result<usize, Error> {
    let discovery = Discovery::new(client.clone()).run_aggregated().await?;
    let mut remaining = 0;
    let deletable = discovery
        .groups()
        .flat_map(|group| group.recommended_resources())
        .filter(|(_, capabilities)| {
            capabilities.scope == Scope::Namespaced
                && capabilities.supports_operation(verbs::LIST)
                && capabilities.supports_operation(verbs::DELETE)
        });
    for (resource, _) in deletable {
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource);
        let objects = api.list_metadata(&ListParams::default()).await?;
        for object in objects.items {
            remaining += 1;
            if object.metadata.deletion_timestamp.is_some() {
                continue;
            }
            match api
                .delete(&object.name_any(), &DeleteParams::background())
                .await
            {
                Ok(_) => {}
                Err(kube::Error::Api(status)) if status.code == 404 => {}
                Err(err) => return Err(err.into()),
            }
        }
    }
    Ok(remaining)
}

/// Removes the `kubernetes` finalizer from the namespace's spec.
async fn finalize(client: &Client, namespace: &Namespace) -> Result<(), Error> {
    let mut finalized = namespace.clone();
    if let Some(finalizers) = finalized.spec.as_mut().and_then(|s| s.finalizers.as_mut()) {
        finalizers.retain(|f| f != FINALIZER);
    }
    let api: Api<Namespace> = Api::all(client.clone());
    let name = namespace.name_any();
    match api
        .replace_subresource("finalize", &name, &PostParams::default(), &finalized)
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(err) => Err(err.into()),
    }
}

fn error_policy(_namespace: Arc<Namespace>, err: &Error, _ctx: Arc<Context>) -> Action {
    tracing::debug!(error = %err, "namespace deletion will retry");
    Action::requeue(Duration::from_secs(1))
}
