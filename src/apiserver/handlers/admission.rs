//! The steps every write shares: checking the body belongs at its URL, running it through its
//! kind (decode, defaults, validation, the `fieldValidation` mode), and the checks that need
//! the store (the namespace exists and is not terminating; Service address allocation).

use serde_json::{Value, json};
use tokio::sync::MutexGuard;

use super::Request;
use crate::apiserver::meta;
use crate::apiserver::params::FieldValidation;
use crate::apiserver::{ApiError, ApiState};
use crate::registry::{self, Allocation, Resource};

/// Fills or checks the body's apiVersion, kind, namespace and (for named URLs) name against the
/// request, as upstream does before decoding.
pub fn place(request: &Request, object: &mut Value) -> Result<(), ApiError> {
    let r = request.info.resource;
    if !object.is_object() {
        return Err(ApiError::BadRequest(
            "the body must be a JSON object".into(),
        ));
    }
    let api_version = r.api_version();
    match object["apiVersion"].as_str() {
        None | Some("") => object["apiVersion"] = json!(api_version),
        Some(given) if given != api_version => {
            return Err(ApiError::BadRequest(format!(
                "the API version in the data ({given}) does not match the expected API version ({api_version})"
            )));
        }
        Some(_) => {}
    }
    match object["kind"].as_str() {
        None | Some("") => object["kind"] = json!(r.kind),
        Some(given) if given != r.kind => {
            return Err(ApiError::BadRequest(format!(
                "the kind in the data ({given}) does not match the expected kind ({})",
                r.kind
            )));
        }
        Some(_) => {}
    }
    let meta = meta::metadata(object);
    match (
        request.info.namespace(),
        meta.get("namespace").and_then(Value::as_str),
    ) {
        (Some(path), Some(body)) if !body.is_empty() && body != path => {
            return Err(ApiError::BadRequest(
                "the namespace of the provided object does not match the namespace sent on the request".into(),
            ));
        }
        (Some(path), _) => {
            meta.insert("namespace".into(), json!(path));
        }
        (None, _) => {
            meta.remove("namespace");
        }
    }
    if let Some(url_name) = request.info.name.as_deref() {
        match meta.get("name").and_then(Value::as_str) {
            Some(body) if body != url_name => {
                return Err(ApiError::BadRequest(format!(
                    "the name of the object ({body}) does not match the name on the URL ({url_name})"
                )));
            }
            Some(_) => {}
            None => {
                meta.insert("name".into(), json!(url_name));
            }
        }
    }
    Ok(())
}

/// Runs `object` through its kind: decoded, defaulted (and on create prepared), checked for
/// unknown fields as `fieldValidation` asks, and validated against `old` on updates.
/// Unknown fields under the default mode come back as warnings.
pub fn admit(
    r: &Resource,
    object: &Value,
    old: Option<&Value>,
    validation: FieldValidation,
    warnings: &mut Vec<String>,
) -> Result<Value, ApiError> {
    let cannot_handle = |detail: String| {
        ApiError::BadRequest(format!(
            "{kind} in version \"{version}\" cannot be handled as a {kind}: {detail}",
            kind = r.kind,
            version = r.version
        ))
    };
    let admitted = r
        .strategy
        .admit(object, old.is_none())
        .map_err(cannot_handle)?;
    let unknown: Vec<String> = admitted
        .unknown_fields
        .iter()
        .map(|path| format!("unknown field \"{path}\""))
        .collect();
    match validation {
        FieldValidation::Strict if !unknown.is_empty() => {
            return Err(cannot_handle(format!(
                "strict decoding error: {}",
                unknown.join(", ")
            )));
        }
        FieldValidation::Warn => warnings.extend(unknown),
        _ => {}
    }
    let errors = r.strategy.validate(&admitted.object, old);
    if !errors.is_empty() {
        return Err(ApiError::invalid(
            r.kind,
            r.group,
            meta::name(&admitted.object),
            errors,
        ));
    }
    Ok(admitted.object)
}

/// New content may only go into a namespace that exists and is not being deleted.
pub async fn check_namespace(
    state: &ApiState,
    r: &Resource,
    object: &Value,
) -> Result<(), ApiError> {
    let Some(ns) = meta::namespace(object).filter(|_| r.namespaced) else {
        return Ok(());
    };
    let namespaces = registry::find("", "v1", "namespaces").ok_or(ApiError::NoSuchPath)?;
    let namespace = state.objects.get(namespaces, None, ns).await?;
    if meta::is_deleting(&namespace) {
        return Err(ApiError::Forbidden(format!(
            "unable to create new content in namespace {ns} because it is being terminated"
        )));
    }
    Ok(())
}

/// For Services, allocates ClusterIPs and NodePorts and returns the lock that keeps them
/// reserved until the write is done; other kinds pass through.
pub async fn allocate<'s>(
    state: &'s ApiState,
    r: &Resource,
    object: &mut Value,
    old: Option<&Value>,
) -> Result<Option<MutexGuard<'s, ()>>, ApiError> {
    if !r.group.is_empty() || r.plural != "services" {
        return Ok(None);
    }
    let guard = state.allocation_lock.lock().await;
    let page = state.objects.list(r, None, None, None).await?;
    let this = (meta::namespace(object), meta::name(object));
    let others = page
        .items
        .iter()
        .filter(|s| (meta::namespace(s), meta::name(s)) != this);
    let held = Allocation::of(others);
    let errors = state.services.allocate(object, old, &held);
    if !errors.is_empty() {
        return Err(ApiError::invalid(
            r.kind,
            r.group,
            meta::name(object),
            errors,
        ));
    }
    Ok(Some(guard))
}

/// Where clients in a pod look for its service account's token, the cluster's CA and the
/// pod's namespace.
pub const SERVICE_ACCOUNT_MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The lifetime the token volume asks for: an hour and the seven seconds by which upstream
/// tells its own tokens apart from any a user asks for.
const TOKEN_EXPIRATION_SECONDS: i64 = 3607;

/// Upstream's ServiceAccount admission: a new pod runs as `default` unless it names an account
/// (`serviceAccount`, the field's deprecated twin, says the same); and unless the pod or its
/// account turns automounting off, every container that mounts nothing at
/// [`SERVICE_ACCOUNT_MOUNT_PATH`] mounts the `kube-api-access-*` volume there: a token bound
/// to the pod, the cluster's CA (`kube-root-ca.crt`) and the namespace.
pub async fn service_account(
    state: &ApiState,
    r: &Resource,
    pod: &mut Value,
) -> Result<(), ApiError> {
    if !r.group.is_empty() || r.plural != "pods" {
        return Ok(());
    }
    let spec = &mut pod["spec"];
    let named = spec["serviceAccountName"]
        .as_str()
        .filter(|n| !n.is_empty())
        .or_else(|| spec["serviceAccount"].as_str().filter(|n| !n.is_empty()))
        .unwrap_or("default")
        .to_owned();
    spec["serviceAccountName"] = json!(named);
    spec["serviceAccount"] = json!(named);
    let automount = match spec["automountServiceAccountToken"].as_bool() {
        Some(pod_says) => pod_says,
        None => {
            let accounts =
                registry::find("", "v1", "serviceaccounts").ok_or(ApiError::NoSuchPath)?;
            let account = state
                .objects
                .find(accounts, meta::namespace(pod), &named)
                .await?;
            account
                .and_then(|a| a["automountServiceAccountToken"].as_bool())
                .unwrap_or(true)
        }
    };
    if automount {
        mount_api_access(&mut pod["spec"]);
    }
    Ok(())
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

/// Upstream's DefaultTolerationSeconds admission: a new pod that does not tolerate a not-ready
/// or unreachable node gets a toleration of `seconds` for each, so the node lifecycle
/// controller evicts it that long after its node stops answering.
pub fn default_tolerations(r: &Resource, pod: &mut Value, seconds: i64) {
    if !r.group.is_empty() || r.plural != "pods" {
        return;
    }
    let tolerations = &mut pod["spec"]["tolerations"];
    if !tolerations.is_array() {
        *tolerations = json!([]);
    }
    let Some(list) = tolerations.as_array_mut() else {
        return;
    };
    for key in [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    ] {
        let tolerated = list.iter().any(|t| {
            let key_matches = t["key"].as_str().is_none_or(|k| k.is_empty() || k == key);
            let effect_matches = t["effect"]
                .as_str()
                .is_none_or(|e| e.is_empty() || e == "NoExecute");
            key_matches && effect_matches && (t["operator"] == "Exists" || !t["key"].is_null())
        });
        if !tolerated {
            list.push(json!({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": seconds}));
        }
    }
}
