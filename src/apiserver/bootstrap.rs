//! What every cluster has from its first start: the system namespaces, and the `kubernetes`
//! Service in `default` with Endpoints and an EndpointSlice pointing at this server.

use std::net::IpAddr;

use serde_json::{Value, json};

use super::{ApiError, ApiState, meta};
use crate::registry::{self, Resource, SYSTEM_NAMESPACES};

pub async fn run(state: &ApiState, host: IpAddr, port: u16) -> Result<(), ApiError> {
    let namespaces = resource("", "namespaces")?;
    for name in SYSTEM_NAMESPACES {
        ensure(state, namespaces, json!({"metadata": {"name": name}})).await?;
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
/// between starts).
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
