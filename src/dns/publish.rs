//! The `kube-dns` Service in `kube-system`, as upstream clusters have it (so pods, tools and
//! charts that look for it find it), with Endpoints and an EndpointSlice pointing at this
//! server's DNS port. It has no selector: no controller manages its endpoints but this one.

use std::net::IpAddr;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Endpoints, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Patch, PatchParams};
use kube::{Api, Client};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

/// The cluster IP of `kube-dns`, the tenth of the Service network as upstream's tools expect.
pub const CLUSTER_DNS_IP: &str = "10.96.0.10";

const NAMESPACE: &str = "kube-system";
const NAME: &str = "kube-dns";
const MANAGER: &str = "mkc-dns";

/// Applies the Service and its endpoints, trying again each second until they are in.
pub async fn keep(client: Client, address: IpAddr, port: u16, shutdown: CancellationToken) {
    loop {
        match apply(&client, address, port).await {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(%error, "publishing the kube-dns Service failed; retrying")
            }
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
            () = shutdown.cancelled() => return,
        }
    }
}

async fn apply(client: &Client, address: IpAddr, port: u16) -> Result<(), kube::Error> {
    let params = PatchParams::apply(MANAGER).force();
    let labels = json!({"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS", "kubernetes.io/cluster-service": "true"});
    let ports = |with_target: bool| -> Value {
        let mut ports = json!([
            {"name": "dns", "port": 53, "protocol": "UDP"},
            {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
        ]);
        for entry in ports.as_array_mut().into_iter().flatten() {
            if with_target {
                entry["targetPort"] = json!(port);
            } else {
                entry["port"] = json!(port);
            }
        }
        ports
    };
    let service = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": labels},
        "spec": {"clusterIP": CLUSTER_DNS_IP, "clusterIPs": [CLUSTER_DNS_IP], "ports": ports(true)},
    });
    Api::<Service>::namespaced(client.clone(), NAMESPACE)
        .patch(NAME, &params, &Patch::Apply(service))
        .await?;
    let endpoints = json!({
        "apiVersion": "v1", "kind": "Endpoints",
        "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": labels},
        "subsets": [{"addresses": [{"ip": address.to_string()}], "ports": ports(false)}],
    });
    Api::<Endpoints>::namespaced(client.clone(), NAMESPACE)
        .patch(NAME, &params, &Patch::Apply(endpoints))
        .await?;
    let slice = json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": NAME, "namespace": NAMESPACE,
                     "labels": {"kubernetes.io/service-name": NAME,
                                "endpointslice.kubernetes.io/managed-by": MANAGER}},
        "addressType": if address.is_ipv4() { "IPv4" } else { "IPv6" },
        "endpoints": [{"addresses": [address.to_string()], "conditions": {"ready": true}}],
        "ports": ports(false),
    });
    Api::<EndpointSlice>::namespaced(client.clone(), NAMESPACE)
        .patch(NAME, &params, &Patch::Apply(slice))
        .await?;
    Ok(())
}
