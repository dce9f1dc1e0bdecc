//! Upstream's ServiceAccount admission.

use std::time::Duration;

use serde_json::{Value, json};

use crate::apiserver::{ApiError, ApiState, meta};
use crate::registry::{self, Resource};

/// Where clients in a pod look for its service account's token, the cluster's CA and the
/// pod's namespace.
const SERVICE_ACCOUNT_MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// How often a pod's `default` account is looked for, and how far apart, before the pod is
/// refused: the service account controller makes it just after its namespace, which a pod may
/// follow at once. Upstream's plug-in waits the same way; a named account is looked for once.
const DEFAULT_ACCOUNT_ATTEMPTS: usize = 10;
const DEFAULT_ACCOUNT_INTERVAL: Duration = Duration::from_millis(150);

/// The lifetime the token volume asks for: an hour and the seven seconds by which upstream
/// tells its own tokens apart from any a user asks for.
const TOKEN_EXPIRATION_SECONDS: i64 = 3607;

/// Upstream's ServiceAccount admission: a new pod runs as `default` unless it names an account
/// (`serviceAccount`, the field's deprecated twin, says the same), which must exist; and
/// unless the pod or its account turns automounting off, every container that mounts nothing
/// at [`SERVICE_ACCOUNT_MOUNT_PATH`] mounts the `kube-api-access-*` volume there: a token
/// bound to the pod, the cluster's CA (`kube-root-ca.crt`) and the namespace.
pub async fn admit(state: &ApiState, pods: &Resource, pod: &mut Value) -> Result<(), ApiError> {
    let spec = &mut pod["spec"];
    let named = spec["serviceAccountName"]
        .as_str()
        .filter(|n| !n.is_empty())
        .or_else(|| spec["serviceAccount"].as_str().filter(|n| !n.is_empty()))
        .unwrap_or("default")
        .to_owned();
    spec["serviceAccountName"] = json!(named);
    spec["serviceAccount"] = json!(named);
    let account = account(state, pods, pod, &named).await?;
    let automount = pod["spec"]["automountServiceAccountToken"]
        .as_bool()
        .or_else(|| account["automountServiceAccountToken"].as_bool())
        .unwrap_or(true);
    if automount {
        mount_api_access(&mut pod["spec"]);
    }
    Ok(())
}

/// The account a pod runs as, or upstream's refusal of a pod whose account does not exist.
async fn account(
    state: &ApiState,
    pods: &Resource,
    pod: &Value,
    named: &str,
) -> Result<Value, ApiError> {
    let accounts = registry::find("", "v1", "serviceaccounts").ok_or(ApiError::NoSuchPath)?;
    let namespace = meta::namespace(pod);
    let attempts = if named == "default" {
        DEFAULT_ACCOUNT_ATTEMPTS
    } else {
        1
    };
    for attempt in 0..attempts {
        if attempt > 0 {
            tokio::time::sleep(DEFAULT_ACCOUNT_INTERVAL).await;
        }
        if let Some(account) = state.objects.find(accounts, namespace, named).await? {
            return Ok(account);
        }
    }
    // A pod still to be named is refused under the prefix of the name it will get.
    let name = pod["metadata"]["name"]
        .as_str()
        .or_else(|| pod["metadata"]["generateName"].as_str())
        .unwrap_or_default();
    Err(ApiError::Denied {
        resource: pods.qualified(),
        name: name.to_owned(),
        message: format!(
            "error looking up service account {}/{named}: serviceaccount {named:?} not found",
            namespace.unwrap_or_default()
        ),
    })
}

/// Mounts the API access volume into every container without a mount of its own at
/// [`SERVICE_ACCOUNT_MOUNT_PATH`], adding the volume if any container mounts it.
fn mount_api_access(spec: &mut Value) {
    let volume = meta::generate_name("kube-api-access-");
    let mut mounted = false;
    for list in ["initContainers", "containers"] {
        for container in spec[list].as_array_mut().into_iter().flatten() {
            let mounts = &mut container["volumeMounts"];
            let has_own = mounts
                .as_array()
                .into_iter()
                .flatten()
                .any(|m| m["mountPath"] == SERVICE_ACCOUNT_MOUNT_PATH);
            if has_own {
                continue;
            }
            if !mounts.is_array() {
                *mounts = json!([]);
            }
            if let Some(mounts) = mounts.as_array_mut() {
                mounts.push(json!({
                    "name": volume,
                    "readOnly": true,
                    "mountPath": SERVICE_ACCOUNT_MOUNT_PATH,
                }));
                mounted = true;
            }
        }
    }
    if !mounted {
        return;
    }
    let volumes = &mut spec["volumes"];
    if !volumes.is_array() {
        *volumes = json!([]);
    }
    if let Some(volumes) = volumes.as_array_mut() {
        volumes.push(json!({
            "name": volume,
            "projected": {
                "defaultMode": 420,
                "sources": [
                    {"serviceAccountToken": {"expirationSeconds": TOKEN_EXPIRATION_SECONDS, "path": "token"}},
                    {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                    {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
                ],
            },
        }));
    }
}
