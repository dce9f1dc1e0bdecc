//! Objects every namespace has, made within moments of the namespace and put back when they
//! are deleted: the `default` ServiceAccount (upstream's serviceaccount controller) and the
//! `kube-root-ca.crt` ConfigMap holding the cluster's CA (upstream's root-ca-cert-publisher),
//! from which pods learn to trust the API server. Clients wait for both before they create
//! pods, as the Python client's own tests do.
//!
//! Each is a controller over namespaces that also hears of its objects' changes, so a deleted
//! or altered object brings its namespace back for reconciling.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use super::ReconcileError as Error;
use super::informers::{Informer, Informers, ROOT_CA_CONFIG_MAP, Synced};

/// Upstream's description of the CA ConfigMap, which it also uses to tell its own copy.
const ROOT_CA_DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the \
     kube-apiserver when using internal endpoints such as the internal service IP or \
     kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes \
     clusters.";
const DESCRIPTION_ANNOTATION: &str = "kubernetes.io/description";
const CA_KEY: &str = "ca.crt";

/// The kinds a namespace's default objects are: namespaced built-in kinds.
trait Object:
    Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
    + Clone
    + DeserializeOwned
    + Serialize
    + std::fmt::Debug
    + Send
    + Sync
    + 'static
{
}

impl Object for ServiceAccount {}
impl Object for ConfigMap {}

/// One object every namespace must hold.
struct Wanted<K> {
    name: &'static str,
    /// The object as it should be in a namespace.
    make: Box<dyn Fn(&str) -> K + Send + Sync>,
    /// The existing object brought back to what is wanted, if it strayed; it is written by an
    /// update, as upstream's controllers write it (their roles allow no patch).
    repair: fn(existing: &K, wanted: &K) -> Option<K>,
}

struct Context<K: Object> {
    client: Client,
    objects: Store<K>,
    objects_synced: Synced,
    wanted: Wanted<K>,
}

/// The `default` ServiceAccount in every namespace (it is only ever created, as upstream).
pub fn start_service_accounts(
    client: &Client,
    informers: &mut Informers,
    shutdown: CancellationToken,
) -> impl Future<Output = ()> + use<> {
    let wanted = Wanted {
        name: "default",
        make: Box::new(|namespace: &str| ServiceAccount {
            metadata: metadata("default", namespace, None),
            ..ServiceAccount::default()
        }),
        repair: |_, _| None,
    };
    start(
        client,
        &mut informers.namespaces,
        &mut informers.service_accounts,
        wanted,
        shutdown,
    )
}

/// The `kube-root-ca.crt` ConfigMap with the cluster's CA in every namespace, kept as upstream
/// keeps it: its data exactly the CA, its description annotation present.
pub fn start_root_ca_publisher(
    client: &Client,
    informers: &mut Informers,
    ca_pem: String,
    shutdown: CancellationToken,
) -> impl Future<Output = ()> + use<> {
    let wanted = Wanted {
        name: ROOT_CA_CONFIG_MAP,
        make: Box::new(move |namespace: &str| ConfigMap {
            metadata: metadata(
                ROOT_CA_CONFIG_MAP,
                namespace,
                Some((DESCRIPTION_ANNOTATION, ROOT_CA_DESCRIPTION)),
            ),
            data: Some(BTreeMap::from([(CA_KEY.to_owned(), ca_pem.clone())])),
            ..ConfigMap::default()
        }),
        repair: repair_root_ca,
    };
    start(
        client,
        &mut informers.namespaces,
        &mut informers.root_ca_config_maps,
        wanted,
        shutdown,
    )
}

fn metadata(name: &str, namespace: &str, annotation: Option<(&str, &str)>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(namespace.to_owned()),
        annotations: annotation.map(|(k, v)| BTreeMap::from([(k.to_owned(), v.to_owned())])),
        ..ObjectMeta::default()
    }
}

/// The ConfigMap with its data exactly the CA (other keys removed) and its description back.
fn repair_root_ca(existing: &ConfigMap, wanted: &ConfigMap) -> Option<ConfigMap> {
    let described = existing
        .annotations()
        .get(DESCRIPTION_ANNOTATION)
        .is_some_and(|d| !d.is_empty());
    if existing.data == wanted.data && existing.binary_data.is_none() && described {
        return None;
    }
    let mut repaired = existing.clone();
    repaired.data = wanted.data.clone();
    repaired.binary_data = None;
    repaired.annotations_mut().insert(
        DESCRIPTION_ANNOTATION.to_owned(),
        ROOT_CA_DESCRIPTION.to_owned(),
    );
    Some(repaired)
}

fn start<K: Object>(
    client: &Client,
    namespaces: &mut Informer<Namespace>,
    objects: &mut Informer<K>,
    wanted: Wanted<K>,
    shutdown: CancellationToken,
) -> impl Future<Output = ()> + use<K> {
    let name = wanted.name;
    let context = Arc::new(Context {
        client: client.clone(),
        objects: objects.store(),
        objects_synced: objects.synced(),
        wanted,
    });
    let namespace_of = move |object: Arc<K>| {
        (object.name_any() == name)
            .then(|| {
                object
                    .namespace()
                    .map(|ns| ObjectRef::<Namespace>::new(&ns))
            })
            .flatten()
    };
    let (controller, synced) = namespaces.controller(shutdown);
    let controller = controller.watches_shared_stream(objects.subscribe(), namespace_of);
    synced.run(controller, reconcile, error_policy, context)
}

async fn reconcile<K: Object>(
    namespace: Arc<Namespace>,
    ctx: Arc<Context<K>>,
) -> Result<Action, Error> {
    let terminating = namespace.metadata.deletion_timestamp.is_some()
        || namespace.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Terminating");
    // A cache still filling cannot tell a missing object from one not yet seen.
    if terminating || !ctx.objects_synced.wait().await {
        return Ok(Action::await_change());
    }
    let ns = namespace.name_any();
    let api: Api<K> = Api::namespaced(ctx.client.clone(), &ns);
    let wanted = (ctx.wanted.make)(&ns);
    let key = ObjectRef::new(ctx.wanted.name).within(&ns);
    let outcome = match ctx.objects.get(&key) {
        None => api.create(&PostParams::default(), &wanted).await.map(drop),
        Some(existing) => match (ctx.wanted.repair)(&existing, &wanted) {
            None => Ok(()),
            Some(repaired) => api
                .replace(ctx.wanted.name, &PostParams::default(), &repaired)
                .await
                .map(drop),
        },
    };
    match outcome {
        // Made by an earlier pass the cache has not shown yet, or the namespace is going.
        Err(kube::Error::Api(status)) if matches!(status.code, 403 | 404 | 409) => {
            Ok(Action::await_change())
        }
        Err(err) => Err(err.into()),
        Ok(()) => Ok(Action::await_change()),
    }
}

fn error_policy<K: Object>(
    _namespace: Arc<Namespace>,
    err: &Error,
    _ctx: Arc<Context<K>>,
) -> Action {
    tracing::warn!(error = %err, "making a namespace's default objects failed; retrying");
    Action::requeue(Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_map(data: &[(&str, &str)], described: bool) -> ConfigMap {
        ConfigMap {
            metadata: metadata(
                ROOT_CA_CONFIG_MAP,
                "d",
                described.then_some((DESCRIPTION_ANNOTATION, ROOT_CA_DESCRIPTION)),
            ),
            data: Some(
                data.iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            ),
            ..ConfigMap::default()
        }
    }

    #[test]
    fn the_ca_config_map_is_repaired_only_when_it_strayed() {
        let wanted = config_map(&[(CA_KEY, "PEM")], true);
        assert_eq!(repair_root_ca(&wanted, &wanted), None);

        let altered = config_map(&[(CA_KEY, "other"), ("extra", "x")], true);
        let repaired = repair_root_ca(&altered, &wanted).unwrap();
        assert_eq!(repaired.data, wanted.data);

        let undescribed = config_map(&[(CA_KEY, "PEM")], false);
        let repaired = repair_root_ca(&undescribed, &wanted).unwrap();
        assert_eq!(
            repaired
                .annotations()
                .get(DESCRIPTION_ANNOTATION)
                .map(String::as_str),
            Some(ROOT_CA_DESCRIPTION)
        );
    }
}
