//! What every cluster has from its first start: the system namespaces, the `kubernetes`
//! Service in `default` with Endpoints and an EndpointSlice pointing at this server, upstream's
//! bootstrap RBAC policy, the two system PriorityClasses, the local APIServices of the
//! built-in group-versions, and the `extension-apiserver-authentication` ConfigMap that tells
//! extension API servers whom to trust.

use std::net::IpAddr;

use serde_json::{Value, json};

use super::aggregation::{
    self, EXTRA_HEADER_PREFIX, FRONT_PROXY_CLIENT, GROUP_HEADER, USER_HEADER,
};
use super::{ApiError, ApiState, meta};
use crate::registry::{self, Resource, SYSTEM_NAMESPACES};

pub async fn run(state: &ApiState, host: IpAddr, port: u16) -> Result<(), ApiError> {
    let namespaces = resource("", "namespaces")?;
    for name in SYSTEM_NAMESPACES {
        ensure(state, namespaces, json!({"metadata": {"name": name}})).await?;
    }
    rbac_policy(state).await?;
    let priority_classes = registry::find("scheduling.k8s.io", "v1", "priorityclasses")
        .ok_or_else(|| ApiError::Internal("priorityclasses is not served".into()))?;
    for (name, value, description) in SYSTEM_PRIORITY_CLASSES {
        let class = json!({"metadata": {"name": name}, "value": value, "description": description});
        ensure(state, priority_classes, class).await?;
    }
    // Made, or put right, at every start, as upstream's `onstart` APIServices are.
    let apiservices = resource(aggregation::GROUP, "apiservices")?;
    for service in to_values(aggregation::built_in_api_services())? {
        refresh(state, apiservices, service, "spec").await?;
    }
    let labels = json!({"component": "apiserver", "provider": "kubernetes"});
    let cluster_ip = state.services.first_ip().to_string();
    ensure(
        state,
        resource("", "services")?,
        json!({
            "metadata": {"name": "kubernetes", "namespace": "default", "labels": labels},
            "spec": {
                "type": "ClusterIP",
                "clusterIP": cluster_ip,
                "clusterIPs": [cluster_ip],
                "sessionAffinity": "None",
                "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}],
            },
        }),
    )
    .await?;
    let address = host.to_string();
    let endpoints = json!({
        "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
        "subsets": [{"addresses": [{"ip": address}], "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}],
    });
    refresh(state, resource("", "endpoints")?, endpoints, "subsets").await?;
    let slice = json!({
        "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"kubernetes.io/service-name": "kubernetes", "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [address], "conditions": {"ready": true}}],
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
    });
    refresh(
        state,
        resource("discovery.k8s.io", "endpointslices")?,
        slice,
        "endpoints",
    )
    .await
}

/// Publishes, as upstream's API server does in kube-system, what extension API servers
/// (metrics-server, say) read to authenticate requests: the CA of client certificates, and
/// the front proxy's CA, name and headers, which they trust to assert the user of a request
/// the API server forwards.
pub async fn extension_authentication(
    state: &ApiState,
    client_ca: &str,
    front_proxy_ca: &str,
) -> Result<(), ApiError> {
    let list = |item: &str| json!([item]).to_string();
    let config_map = json!({
        "metadata": {"name": "extension-apiserver-authentication", "namespace": "kube-system"},
        "data": {
            "client-ca-file": client_ca,
            "requestheader-client-ca-file": front_proxy_ca,
            "requestheader-allowed-names": list(FRONT_PROXY_CLIENT),
            "requestheader-username-headers": list(USER_HEADER),
            "requestheader-group-headers": list(GROUP_HEADER),
            "requestheader-extra-headers-prefix": list(EXTRA_HEADER_PREFIX),
        },
    });
    refresh(state, resource("", "configmaps")?, config_map, "data").await
}

/// The classes of the pods a cluster cannot do without, highest first.
const SYSTEM_PRIORITY_CLASSES: [(&str, i32, &str); 2] = [
    (
        "system-node-critical",
        2_000_001_000,
        "Used for system critical pods that must not be moved from their current node.",
    ),
    (
        "system-cluster-critical",
        2_000_000_000,
        "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
    ),
];

/// Creates each bootstrap role and binding (upstream's, and those of mkc's own components)
/// that does not exist; one a user changed or
/// deleted and recreated is left as it is.
async fn rbac_policy(state: &ApiState) -> Result<(), ApiError> {
    use crate::rbac::bootstrap;
    let group = "rbac.authorization.k8s.io";
    use crate::rbac::components;
    let mut cluster_roles = bootstrap::cluster_roles();
    cluster_roles.extend(components::cluster_roles());
    let mut cluster_role_bindings = bootstrap::cluster_role_bindings();
    cluster_role_bindings.extend(components::cluster_role_bindings());
    let objects = [
        ("clusterroles", to_values(cluster_roles)?),
        ("clusterrolebindings", to_values(cluster_role_bindings)?),
        ("roles", to_values(bootstrap::roles())?),
        ("rolebindings", to_values(bootstrap::role_bindings())?),
    ];
    for (plural, values) in objects {
        let r = resource(group, plural)?;
        for object in values {
            ensure(state, r, object).await?;
        }
    }
    Ok(())
}

fn to_values<T: serde::Serialize>(objects: Vec<T>) -> Result<Vec<Value>, ApiError> {
    objects
        .into_iter()
        .map(|o| serde_json::to_value(o).map_err(|e| ApiError::Internal(e.to_string())))
        .collect()
}

fn resource(group: &str, plural: &str) -> Result<&'static Resource, ApiError> {
    registry::find(group, "v1", plural)
        .ok_or_else(|| ApiError::Internal(format!("{plural} is not served")))
}

/// Creates `object` unless an object of that name exists.
async fn ensure(state: &ApiState, r: &Resource, object: Value) -> Result<(), ApiError> {
    if state
        .objects
        .find(r, meta::namespace(&object), meta::name(&object))
        .await?
        .is_some()
    {
        return Ok(());
    }
    create(state, r, object).await
}

/// Creates `object`, or brings the stored one's `field` up to date (the address may change
/// between starts, and so may certificates and what upstream corrects at start).
async fn refresh(
    state: &ApiState,
    r: &Resource,
    object: Value,
    field: &str,
) -> Result<(), ApiError> {
    let (ns, name) = (meta::namespace(&object), meta::name(&object));
    match state.objects.find(r, ns, name).await? {
        None => create(state, r, object.clone()).await,
        Some(current) if current[field] == object[field] => Ok(()),
        Some(_) => state
            .objects
            .update_with(r, ns, name, |mut current| {
                current[field] = object[field].clone();
                Ok(Some(current))
            })
            .await
            .map(drop),
    }
}

async fn create(state: &ApiState, r: &Resource, mut object: Value) -> Result<(), ApiError> {
    object["apiVersion"] = json!(r.api_version());
    object["kind"] = json!(r.kind);
    meta::initialise(&mut object, r.generation);
    let admitted = r
        .strategy
        .admit(&object, true)
        .map_err(ApiError::Internal)?;
    match state.objects.create(r, admitted.object).await {
        Ok(_) | Err(ApiError::AlreadyExists { .. }) => Ok(()),
        Err(err) => Err(err),
    }
}
