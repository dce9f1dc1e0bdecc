//! What a container takes from its pod and from the API before it starts, resolved by the
//! agent as a kubelet does, so that a runtime receives plain data ([`Prepared`]): the
//! environment (`envFrom`, then `env` with `$(VAR)` expansion and values from ConfigMaps,
//! Secrets, the pod's fields and the container's resources), the command and arguments
//! expanded with it, and the files of the volumes it mounts from the API
//! ([`crate::volumes`]). The ConfigMaps and Secrets are read, and the service account tokens
//! had from [`Tokens`], once per start; the rest is pure.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{ConfigMap, Container, EnvVarSource, Pod, Secret, Volume};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::{Api, Client};

use crate::config::{Capacity, NodeConfig, quantity_nanos};
use crate::runtime::{Prepared, RuntimePod};
use crate::tokens::{Projection, TokenError, Tokens};
use crate::volumes;

/// Why a container cannot start yet. Pod sync leaves it waiting and tries again; a [`Mount`]
/// error is upstream's FailedMount (the container waits in ContainerCreating), the others
/// upstream's CreateContainerConfigError.
///
/// [`Mount`]: ResolveError::Mount
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("{kind} {name:?} not found")]
    NotFound { kind: Kind, name: String },
    #[error("couldn't find key {key} in {kind} {name:?}")]
    MissingKey {
        kind: Kind,
        name: String,
        key: String,
    },
    #[error("reading {kind} {name:?}: {source}")]
    Api {
        kind: Kind,
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("unsupported fieldPath {0:?}")]
    UnsupportedField(String),
    #[error("unsupported resource {0:?}")]
    UnsupportedResource(String),
    #[error("no container {0:?} in the pod for a resourceFieldRef")]
    NoContainer(String),
    #[error("{0:?} is not a positive quantity")]
    Quantity(String),
    #[error("the file path {0:?} leaves its volume")]
    Path(String),
    /// The service account token of a `serviceAccountToken` source; upstream's words.
    #[error("failed to fetch token: {0}")]
    Token(#[source] Arc<TokenError>),
    /// A `serviceAccountToken` source whose token was not asked for with the others.
    #[error("no token was requested for {0:?}")]
    Unrequested(Projection),
    #[error("writing {path}: {source}")]
    Write {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// One of the container's volumes could not be set up.
    #[error("MountVolume.SetUp failed for volume {volume:?} : {source}")]
    Mount {
        volume: String,
        #[source]
        source: Box<ResolveError>,
    },
}

/// The kinds of object a container reads keys from, named as upstream's messages name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    ConfigMap,
    Secret,
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::ConfigMap => "configmap",
            Kind::Secret => "secret",
        })
    }
}

/// The keys of one ConfigMap or Secret: `text` is what the environment may read (a
/// ConfigMap's `data`, a Secret's `data`), `binary` what only volumes hold (a ConfigMap's
/// `binaryData`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Entries {
    pub text: BTreeMap<String, Vec<u8>>,
    pub binary: BTreeMap<String, Vec<u8>>,
}

impl Entries {
    /// A key's value, wherever it is held.
    pub fn get(&self, key: &str) -> Option<&[u8]> {
        self.text
            .get(key)
            .or_else(|| self.binary.get(key))
            .map(Vec::as_slice)
    }
}

/// What a container's environment and volumes read from the API.
struct Wanted {
    /// ConfigMaps and Secrets.
    objects: BTreeSet<(Kind, String)>,
    /// The pod's service account tokens.
    tokens: BTreeSet<Projection>,
}

impl Wanted {
    fn of_volumes(mounted: &[&Volume]) -> Wanted {
        Wanted {
            objects: mounted
                .iter()
                .flat_map(|v| volumes::references(v))
                .collect(),
            tokens: mounted.iter().flat_map(|v| volumes::tokens(v)).collect(),
        }
    }
}

/// The ConfigMaps and Secrets a container refers to, as read before it starts (`None` for one
/// that does not exist), and the service account tokens its volumes hold (or why one could not
/// be had: that volume fails, not the others).
#[derive(Debug, Default)]
pub struct Objects {
    found: HashMap<(Kind, String), Option<Entries>>,
    tokens: HashMap<Projection, Result<String, Arc<TokenError>>>,
}

impl Objects {
    /// Reads each of `wanted` for `pod`: the objects from its namespace, the tokens from
    /// `tokens`. Nothing is asked for when nothing is wanted.
    async fn fetch(
        client: &Client,
        tokens: &Tokens,
        pod: &Pod,
        wanted: Wanted,
    ) -> Result<Objects, ResolveError> {
        let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
        let mut found = HashMap::new();
        for (kind, name) in wanted.objects {
            let read = match kind {
                Kind::ConfigMap => Api::<ConfigMap>::namespaced(client.clone(), namespace)
                    .get_opt(&name)
                    .await
                    .map(|map| map.map(config_map_entries)),
                Kind::Secret => Api::<Secret>::namespaced(client.clone(), namespace)
                    .get_opt(&name)
                    .await
                    .map(|secret| secret.map(secret_entries)),
            };
            let entries = read.map_err(|source| ResolveError::Api {
                kind,
                name: name.clone(),
                source,
            })?;
            found.insert((kind, name), entries);
        }
        let mut had = HashMap::new();
        for projection in wanted.tokens {
            let token = tokens.get(client, pod, &projection).await;
            had.insert(projection, token.map_err(Arc::new));
        }
        Ok(Objects { found, tokens: had })
    }

    /// Objects as if read: each kind and name, with its keys or `None` for one missing.
    #[cfg(test)]
    pub fn holding<'a>(
        objects: impl IntoIterator<Item = (Kind, &'a str, Option<Entries>)>,
    ) -> Objects {
        let found = objects
            .into_iter()
            .map(|(kind, name, entries)| ((kind, name.to_owned()), entries))
            .collect();
        Objects {
            found,
            ..Objects::default()
        }
    }

    /// These objects with the token `projection` asks for, or why it could not be had.
    #[cfg(test)]
    pub fn with_token(
        mut self,
        projection: Projection,
        token: Result<&str, TokenError>,
    ) -> Objects {
        let token = token.map(str::to_owned).map_err(Arc::new);
        self.tokens.insert(projection, token);
        self
    }

    /// The object a reference names; `None` when it does not exist and the reference is
    /// `optional`, NotFound when it is not.
    pub fn required(
        &self,
        kind: Kind,
        name: &str,
        optional: Option<bool>,
    ) -> Result<Option<&Entries>, ResolveError> {
        match self
            .found
            .get(&(kind, name.to_owned()))
            .and_then(Option::as_ref)
        {
            Some(entries) => Ok(Some(entries)),
            None if optional == Some(true) => Ok(None),
            None => Err(ResolveError::NotFound {
                kind,
                name: name.to_owned(),
            }),
        }
    }

    /// The token `projection` asks for.
    pub fn token(&self, projection: &Projection) -> Result<&str, ResolveError> {
        match self.tokens.get(projection) {
            Some(Ok(token)) => Ok(token),
            Some(Err(error)) => Err(ResolveError::Token(error.clone())),
            None => Err(ResolveError::Unrequested(projection.clone())),
        }
    }
}

fn config_map_entries(map: ConfigMap) -> Entries {
    Entries {
        text: map
            .data
            .unwrap_or_default()
            .into_iter()
            .map(|(key, value)| (key, value.into_bytes()))
            .collect(),
        binary: map
            .binary_data
            .unwrap_or_default()
            .into_iter()
            .map(|(key, value)| (key, value.0))
            .collect(),
    }
}

fn secret_entries(secret: Secret) -> Entries {
    Entries {
        text: secret
            .data
            .unwrap_or_default()
            .into_iter()
            .map(|(key, value)| (key, value.0))
            .collect(),
        binary: BTreeMap::new(),
    }
}

/// What a container's environment and downward API files read from its pod besides the spec.
#[derive(Debug, Clone)]
pub struct PodInfo<'a> {
    pub pod: &'a Pod,
    pub node_name: &'a str,
    pub pod_ip: String,
    pub host_ip: String,
    /// What a container's limits are when it sets none: the node's allocatable.
    pub allocatable: &'a Capacity,
}

impl<'a> PodInfo<'a> {
    /// The pod on `node` as its runtime holds it: a pod on the host network has the node's
    /// address.
    pub fn new(pod: &'a Pod, node: &'a NodeConfig, observed: Option<&RuntimePod>) -> Self {
        let host_ip = node.address.to_string();
        let host_network = pod.spec.as_ref().and_then(|s| s.host_network) == Some(true);
        let pod_ip = match observed.and_then(|p| p.sandbox.ip) {
            _ if host_network => host_ip.clone(),
            Some(ip) => ip.to_string(),
            None => String::new(),
        };
        PodInfo {
            pod,
            node_name: &node.name,
            pod_ip,
            host_ip,
            allocatable: &node.capacity,
        }
    }
}

/// Resolves what `container` needs from the API and its pod, and writes the files of the
/// volumes it mounts under `volumes_dir`, one directory per volume (nothing is written
/// without one).
pub async fn prepare(
    client: &Client,
    tokens: &Tokens,
    info: &PodInfo<'_>,
    container: &Container,
    service_env: &BTreeMap<String, String>,
    volumes_dir: Option<&Path>,
) -> Result<Prepared, ResolveError> {
    let no_spec = Default::default();
    let spec = info.pod.spec.as_ref().unwrap_or(&no_spec);
    let mounted = volumes::mounted(spec, container);
    let mut wanted = Wanted::of_volumes(&mounted);
    wanted.objects.extend(env_references(container));
    let objects = Objects::fetch(client, tokens, info.pod, wanted).await?;
    let mut prepared = Prepared {
        volumes: write_volumes(&mounted, info, &objects, volumes_dir).await?,
        ..Prepared::default()
    };
    prepared.env = environment(container, info, &objects, service_env)?;
    (prepared.command, prepared.args) = command_and_args(container, &prepared.env);
    Ok(prepared)
}

/// Writes the running pod's API volumes again from what the API holds now, as a kubelet's
/// periodic sync does, so that a changed ConfigMap or Secret, a new label, or a renewed
/// token shows in the files; a volume whose content is unchanged is left alone. Whether the
/// pod has any such volume.
pub async fn refresh_volumes(
    client: &Client,
    tokens: &Tokens,
    info: &PodInfo<'_>,
    volumes_dir: &Path,
) -> Result<bool, ResolveError> {
    let no_spec = Default::default();
    let spec = info.pod.spec.as_ref().unwrap_or(&no_spec);
    let mounted = volumes::mounted_by_any(spec);
    if mounted.is_empty() {
        return Ok(false);
    }
    let wanted = Wanted::of_volumes(&mounted);
    let objects = Objects::fetch(client, tokens, info.pod, wanted).await?;
    write_volumes(&mounted, info, &objects, Some(volumes_dir)).await?;
    Ok(true)
}

/// Writes each of `mounted` under `volumes_dir` (when the runtime has one): where each is.
async fn write_volumes(
    mounted: &[&Volume],
    info: &PodInfo<'_>,
    objects: &Objects,
    volumes_dir: Option<&Path>,
) -> Result<HashMap<String, PathBuf>, ResolveError> {
    let mut written = HashMap::new();
    for volume in mounted {
        let failed = |source| ResolveError::Mount {
            volume: volume.name.clone(),
            source: Box::new(source),
        };
        let files = volumes::files(volume, info, objects).map_err(failed)?;
        if let Some(dir) = volumes_dir {
            let dir = dir.join(volumes::relative(&volume.name).map_err(failed)?);
            volumes::write(dir.clone(), files).await.map_err(failed)?;
            written.insert(volume.name.clone(), dir);
        }
    }
    Ok(written)
}

/// The ConfigMaps and Secrets the container's environment reads.
fn env_references(container: &Container) -> BTreeSet<(Kind, String)> {
    let from = container.env_from.iter().flatten().filter_map(|source| {
        match (&source.config_map_ref, &source.secret_ref) {
            (Some(map), _) => Some((Kind::ConfigMap, map.name.clone())),
            (None, Some(secret)) => Some((Kind::Secret, secret.name.clone())),
            (None, None) => None,
        }
    });
    let values = container.env.iter().flatten().filter_map(|variable| {
        let source = variable.value_from.as_ref()?;
        match (&source.config_map_key_ref, &source.secret_key_ref) {
            (Some(key), _) => Some((Kind::ConfigMap, key.name.clone())),
            (None, Some(key)) => Some((Kind::Secret, key.name.clone())),
            (None, None) => None,
        }
    });
    from.chain(values).collect()
}

/// Variables in the order they were first defined, each name once, a later definition
/// replacing the value of an earlier one, as upstream's map of them does.
#[derive(Debug, Default)]
struct Environment {
    pairs: Vec<(String, String)>,
    at: HashMap<String, usize>,
}

impl Environment {
    fn set(&mut self, name: String, value: String) {
        match self.at.get(&name) {
            Some(&at) => self.pairs[at].1 = value,
            None => {
                self.at.insert(name.clone(), self.pairs.len());
                self.pairs.push((name, value));
            }
        }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.at.get(name).map(|&at| self.pairs[at].1.as_str())
    }
}

/// The container's environment as upstream's makeEnvironmentVariables builds it: each
/// `envFrom` source in order (its keys prefixed, those that are then no variable name left
/// out), then each `env` entry in order, a plain value expanding `$(NAME)` from the variables
/// defined before it or from `service_env`, then each of `service_env` (the Services'
/// variables, [`crate::service_env`]) not defined yet. A reference to a missing ConfigMap,
/// Secret or key fails the container unless it is `optional`, when the variable is left out.
pub fn environment(
    container: &Container,
    info: &PodInfo,
    objects: &Objects,
    service_env: &BTreeMap<String, String>,
) -> Result<Vec<(String, String)>, ResolveError> {
    let mut env = Environment::default();
    for source in container.env_from.iter().flatten() {
        let (kind, name, optional) = match (&source.config_map_ref, &source.secret_ref) {
            (Some(map), _) => (Kind::ConfigMap, &map.name, map.optional),
            (None, Some(secret)) => (Kind::Secret, &secret.name, secret.optional),
            (None, None) => continue,
        };
        let Some(entries) = objects.required(kind, name, optional)? else {
            continue;
        };
        let prefix = source.prefix.as_deref().unwrap_or_default();
        let mut invalid = Vec::new();
        for (key, value) in &entries.text {
            let variable = format!("{prefix}{key}");
            if is_variable_name(&variable) {
                env.set(variable, String::from_utf8_lossy(value).into_owned());
            } else {
                invalid.push(variable);
            }
        }
        if !invalid.is_empty() {
            tracing::info!(%kind, %name, ?invalid, "keys that are no variable names are skipped");
        }
    }
    for variable in container.env.iter().flatten() {
        let value = match (variable.value.as_deref(), &variable.value_from) {
            (Some(value), _) if !value.is_empty() => expand(value, |name| {
                env.get(name)
                    .or_else(|| service_env.get(name).map(String::as_str))
            }),
            (_, Some(source)) => match value_from(source, container, info, objects)? {
                Some(value) => value,
                None => continue,
            },
            _ => String::new(),
        };
        env.set(variable.name.clone(), value);
    }
    for (name, value) in service_env {
        if env.get(name).is_none() {
            env.set(name.clone(), value.clone());
        }
    }
    Ok(env.pairs)
}

/// The value of one `valueFrom`; `None` when it names an optional ConfigMap, Secret or key
/// that is missing.
fn value_from(
    source: &EnvVarSource,
    container: &Container,
    info: &PodInfo,
    objects: &Objects,
) -> Result<Option<String>, ResolveError> {
    if let Some(field) = &source.field_ref {
        return field_value(&field.field_path, info).map(Some);
    }
    if let Some(resource) = &source.resource_field_ref {
        let value = resource_value(
            container,
            &resource.resource,
            resource.divisor.as_ref(),
            info.allocatable,
        );
        return value.map(Some);
    }
    let (kind, name, key, optional) = match (&source.config_map_key_ref, &source.secret_key_ref) {
        (Some(r), _) => (Kind::ConfigMap, &r.name, &r.key, r.optional),
        (None, Some(r)) => (Kind::Secret, &r.name, &r.key, r.optional),
        (None, None) => return Ok(None),
    };
    let Some(entries) = objects.required(kind, name, optional)? else {
        return Ok(None);
    };
    match entries.text.get(key) {
        Some(value) => Ok(Some(String::from_utf8_lossy(value).into_owned())),
        None if optional == Some(true) => Ok(None),
        None => Err(ResolveError::MissingKey {
            kind,
            name: name.clone(),
            key: key.clone(),
        }),
    }
}

/// Upstream's test for an environment variable name: `[-._a-zA-Z][-._a-zA-Z0-9]*`.
fn is_variable_name(name: &str) -> bool {
    let allowed = |b: u8, first: bool| {
        matches!(b, b'-' | b'.' | b'_') || b.is_ascii_alphabetic() || (!first && b.is_ascii_digit())
    };
    name.bytes().enumerate().all(|(at, b)| allowed(b, at == 0)) && !name.is_empty()
}

/// A field of the pod, as `fieldRef` names it for the environment and downward API files:
/// its names, labels and annotations (whole, as `key="value"` lines, or one by
/// `['key']`), node, service account and addresses.
pub fn field_value(path: &str, info: &PodInfo) -> Result<String, ResolveError> {
    let meta = &info.pod.metadata;
    let subscript = path.strip_suffix("']").and_then(|p| p.split_once("['"));
    let value = match (path, subscript) {
        (_, Some(("metadata.labels", key))) => lookup(meta.labels.as_ref(), key),
        (_, Some(("metadata.annotations", key))) => lookup(meta.annotations.as_ref(), key),
        ("metadata.name", _) => meta.name.clone().unwrap_or_default(),
        ("metadata.namespace", _) => meta.namespace.clone().unwrap_or_default(),
        ("metadata.uid", _) => meta.uid.clone().unwrap_or_default(),
        ("metadata.labels", _) => format_map(meta.labels.as_ref()),
        ("metadata.annotations", _) => format_map(meta.annotations.as_ref()),
        ("spec.nodeName", _) => info.node_name.to_owned(),
        ("spec.serviceAccountName", _) => info
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.service_account_name.clone())
            .unwrap_or_else(|| "default".to_owned()),
        ("status.podIP" | "status.podIPs", _) => info.pod_ip.clone(),
        ("status.hostIP" | "status.hostIPs", _) => info.host_ip.clone(),
        _ => return Err(ResolveError::UnsupportedField(path.to_owned())),
    };
    Ok(value)
}

fn lookup(map: Option<&BTreeMap<String, String>>, key: &str) -> String {
    map.and_then(|m| m.get(key)).cloned().unwrap_or_default()
}

/// Labels or annotations as the kubelet writes them: `key="value"` lines in key order, the
/// value quoted as Go quotes strings, with no newline after the last.
pub fn format_map(map: Option<&BTreeMap<String, String>>) -> String {
    let lines: Vec<String> = map
        .into_iter()
        .flatten()
        .map(|(key, value)| format!("{key}={}", go_quote(value)))
        .collect();
    lines.join("\n")
}

/// `value` in double quotes with Go's escapes (strconv.Quote) for quotes, backslashes and
/// control characters.
fn go_quote(value: &str) -> String {
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push('"');
    for c in value.chars() {
        let escape = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\t' => "\\t",
            '\r' => "\\r",
            '\u{7}' => "\\a",
            '\u{8}' => "\\b",
            '\u{b}' => "\\v",
            '\u{c}' => "\\f",
            c if c.is_ascii_control() => {
                let _ = write!(quoted, "\\x{:02x}", u32::from(c));
                continue;
            }
            c if c.is_control() => {
                let _ = write!(quoted, "\\u{:04x}", u32::from(c));
                continue;
            }
            c => {
                quoted.push(c);
                continue;
            }
        };
        quoted.push_str(escape);
    }
    quoted.push('"');
    quoted
}

/// One of a container's resources, as `resourceFieldRef` names it (`limits.cpu`,
/// `requests.memory`), divided by `divisor` (default 1) and rounded up as upstream does: CPU
/// from millicores, memory from bytes. A limit the container does not set is the node's
/// allocatable; a request it does not set is its limit, as the API defaults it, else 0.
pub fn resource_value(
    container: &Container,
    resource: &str,
    divisor: Option<&Quantity>,
    allocatable: &Capacity,
) -> Result<String, ResolveError> {
    let unsupported = || ResolveError::UnsupportedResource(resource.to_owned());
    let (list, name) = resource.split_once('.').ok_or_else(unsupported)?;
    let (default, whole): (&Quantity, fn(i128) -> i128) = match name {
        "cpu" => (&allocatable.cpu, |nanos| ceil_div(nanos, 1_000_000)),
        "memory" => (&allocatable.memory, |nanos| ceil_div(nanos, 1_000_000_000)),
        _ => return Err(unsupported()),
    };
    let resources = container.resources.as_ref();
    let limit = resources
        .and_then(|r| r.limits.as_ref())
        .and_then(|l| l.get(name));
    let request = resources
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get(name));
    let zero = Quantity("0".to_owned());
    let quantity = match list {
        "limits" => limit.unwrap_or(default),
        "requests" => request.or(limit).unwrap_or(&zero),
        _ => return Err(unsupported()),
    };
    let nanos =
        |q: &Quantity| quantity_nanos(&q.0).ok_or_else(|| ResolveError::Quantity(q.0.clone()));
    let value = whole(nanos(quantity)?);
    let one = Quantity("1".to_owned());
    let divisor = divisor.unwrap_or(&one);
    let by = Some(whole(nanos(divisor)?))
        .filter(|by| *by > 0)
        .ok_or_else(|| ResolveError::Quantity(divisor.0.clone()))?;
    Ok(ceil_div(value, by).to_string())
}

/// `value / by` rounded up, for a value and divisor that are not negative.
fn ceil_div(value: i128, by: i128) -> i128 {
    (value + by - 1) / by
}

/// Expands `$(NAME)` in `text` as upstream does: a defined name becomes its value, an
/// undefined one stays as written, `$$` is a literal `$`, and any other `$` is kept.
pub fn expand<'a>(text: &str, lookup: impl Fn(&str) -> Option<&'a str>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some((name, tail)) = after.strip_prefix('(').and_then(|r| r.split_once(')')) {
            match lookup(name) {
                Some(value) => out.push_str(value),
                None => {
                    out.push_str("$(");
                    out.push_str(name);
                    out.push(')');
                }
            }
            rest = tail;
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// The entrypoint and arguments the container runs: `command` replaces the image's ENTRYPOINT
/// and `args` its CMD, each expanded with the container's environment; what the spec leaves
/// out, the image decides (`None`).
pub fn command_and_args(
    spec: &Container,
    environment: &[(String, String)],
) -> (Option<Vec<String>>, Option<Vec<String>>) {
    let lookup = |name: &str| {
        environment
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let expand_all = |words: &Vec<String>| -> Vec<String> {
        words.iter().map(|word| expand(word, lookup)).collect()
    };
    let entrypoint = spec.command.as_ref().map(expand_all);
    // A command without args runs with no arguments, not with the image's CMD.
    let args = match (&spec.args, &entrypoint) {
        (Some(args), _) => Some(expand_all(args)),
        (None, Some(_)) => Some(Vec::new()),
        (None, None) => None,
    };
    (entrypoint, args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn container(value: serde_json::Value) -> Container {
        serde_json::from_value(value).unwrap()
    }

    fn pod() -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "default", "uid": "6f1c",
                         "labels": {"app": "web", "tier": "front"},
                         "annotations": {"note": "say \"hi\"\n\tbye\\"}},
            "spec": {"containers": [], "serviceAccountName": "robot"},
        }))
        .unwrap()
    }

    fn info<'a>(pod: &'a Pod, capacity: &'a Capacity) -> PodInfo<'a> {
        PodInfo {
            pod,
            node_name: "worker-1",
            pod_ip: "10.244.1.2".into(),
            host_ip: "172.18.0.3".into(),
            allocatable: capacity,
        }
    }

    fn objects() -> Objects {
        let entries = |pairs: &[(&str, &str)]| Entries {
            text: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
                .collect(),
            binary: BTreeMap::new(),
        };
        Objects {
            found: HashMap::from([
                (
                    (Kind::ConfigMap, "settings".to_owned()),
                    Some(entries(&[("MODE", "fast"), ("1BAD", "x"), ("level", "3")])),
                ),
                (
                    (Kind::Secret, "creds".to_owned()),
                    Some(entries(&[("password", "s3cret"), ("user", "admin")])),
                ),
                ((Kind::ConfigMap, "gone".to_owned()), None),
            ]),
            ..Objects::default()
        }
    }

    fn env_of(spec: serde_json::Value) -> Result<Vec<String>, ResolveError> {
        let (pod, capacity) = (pod(), Capacity::default());
        let env = environment(
            &container(spec),
            &info(&pod, &capacity),
            &objects(),
            &BTreeMap::new(),
        )?;
        Ok(env.iter().map(|(n, v)| format!("{n}={v}")).collect())
    }

    #[test]
    fn env_from_comes_first_prefixed_without_invalid_names_then_env_in_order() {
        let env = env_of(json!({
            "name": "c",
            "envFrom": [
                {"configMapRef": {"name": "settings"}},
                {"secretRef": {"name": "creds"}, "prefix": "DB_"},
                {"configMapRef": {"name": "gone", "optional": true}},
            ],
            "env": [
                {"name": "LATER", "value": "$(FIRST)"},
                {"name": "FIRST", "value": "$(MODE)-$(DB_user)"},
                {"name": "MODE", "value": "slow"},
                {"name": "PASS", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}},
                {"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "level"}}},
                {"name": "NOPE", "valueFrom": {"configMapKeyRef": {"name": "gone", "key": "k", "optional": true}}},
                {"name": "NOKEY", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "k", "optional": true}}},
                {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "AFTER", "value": "$(POD)@$(NODE) $$(POD)"},
                {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
                {"name": "NONE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.annotations['x']"}}},
                {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                {"name": "SA", "valueFrom": {"fieldRef": {"fieldPath": "spec.serviceAccountName"}}},
                {"name": "UNSET"},
            ],
        }))
        .unwrap();
        assert_eq!(
            env,
            [
                "MODE=slow",
                "level=3",
                "DB_password=s3cret",
                "DB_user=admin",
                "LATER=$(FIRST)",
                "FIRST=fast-admin",
                "PASS=s3cret",
                "LEVEL=3",
                "POD=web",
                "AFTER=web@$(NODE) $(POD)",
                "NODE=worker-1",
                "APP=web",
                "NONE=",
                "IP=10.244.1.2",
                "SA=robot",
                "UNSET=",
            ]
        );
    }

    #[test]
    fn a_missing_reference_that_is_not_optional_fails() {
        let missing_map =
            env_of(json!({"name": "c", "envFrom": [{"configMapRef": {"name": "gone"}}]}));
        assert!(
            matches!(&missing_map, Err(ResolveError::NotFound { kind: Kind::ConfigMap, name }) if name == "gone"),
            "{missing_map:?}"
        );
        let unread = env_of(json!({"name": "c", "env": [
            {"name": "S", "valueFrom": {"secretKeyRef": {"name": "other", "key": "k"}}},
        ]}));
        assert!(matches!(
            unread,
            Err(ResolveError::NotFound {
                kind: Kind::Secret,
                ..
            })
        ));
        let missing_key = env_of(json!({"name": "c", "env": [
            {"name": "S", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "k"}}},
        ]}));
        assert_eq!(
            missing_key.unwrap_err().to_string(),
            "couldn't find key k in secret \"creds\""
        );
        let field = env_of(json!({"name": "c", "env": [
            {"name": "F", "valueFrom": {"fieldRef": {"fieldPath": "spec.nothing"}}},
        ]}));
        assert!(matches!(field, Err(ResolveError::UnsupportedField(_))));
    }

    #[test]
    fn references_name_what_the_environment_reads() {
        let spec = container(json!({"name": "c",
            "envFrom": [{"secretRef": {"name": "a"}}, {"configMapRef": {"name": "b"}}],
            "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "b", "key": "k"}}},
                    {"name": "Y", "value": "y"}],
        }));
        assert_eq!(
            env_references(&spec),
            BTreeSet::from([
                (Kind::ConfigMap, "b".to_owned()),
                (Kind::Secret, "a".to_owned())
            ])
        );
    }

    #[test]
    fn resources_are_divided_and_rounded_up_with_limits_defaulting_to_the_node() {
        let capacity = Capacity::default();
        let spec = container(json!({"name": "c", "resources": {
            "limits": {"cpu": "250m", "memory": "64Mi"},
            "requests": {"cpu": "100m"},
        }}));
        let bare = container(json!({"name": "c"}));
        let value = |spec: &Container, resource: &str, divisor: Option<&str>| {
            let divisor = divisor.map(|d| Quantity(d.to_owned()));
            resource_value(spec, resource, divisor.as_ref(), &capacity).map_err(|e| e.to_string())
        };
        let cases = [
            (&spec, "limits.cpu", None, "1"),
            (&spec, "limits.cpu", Some("1m"), "250"),
            (&spec, "limits.cpu", Some("100m"), "3"),
            (&spec, "requests.cpu", Some("1m"), "100"),
            (&spec, "limits.memory", None, "67108864"),
            (&spec, "limits.memory", Some("1Mi"), "64"),
            (&spec, "limits.memory", Some("1G"), "1"),
            (&spec, "requests.memory", Some("1Mi"), "64"),
            (&bare, "limits.cpu", None, "4"),
            (&bare, "limits.memory", Some("1Gi"), "8"),
            (&bare, "requests.cpu", None, "0"),
        ];
        for (spec, resource, divisor, expected) in cases {
            assert_eq!(
                value(spec, resource, divisor).as_deref(),
                Ok(expected),
                "{resource} / {divisor:?}"
            );
        }
        assert!(value(&spec, "limits.cpu", Some("0")).is_err());
        assert!(value(&spec, "limits.gpu", None).is_err());
        assert!(value(&spec, "cpu", None).is_err());
    }

    #[test]
    fn labels_and_annotations_read_as_quoted_lines_in_key_order() {
        let (pod, capacity) = (pod(), Capacity::default());
        let info = info(&pod, &capacity);
        assert_eq!(
            field_value("metadata.labels", &info).unwrap(),
            "app=\"web\"\ntier=\"front\""
        );
        assert_eq!(
            field_value("metadata.annotations", &info).unwrap(),
            r#"note="say \"hi\"\n\tbye\\""#
        );
        assert_eq!(go_quote("a\u{1}b\u{85}é"), r#""a\x01b\u0085é""#);
        assert_eq!(format_map(None), "");
    }

    #[test]
    fn variable_names_follow_upstream() {
        for good in ["A", "_a1", "-x.y", "a-b"] {
            assert!(is_variable_name(good), "{good}");
        }
        for bad in ["", "1A", "A B", "A=B", "é"] {
            assert!(!is_variable_name(bad), "{bad}");
        }
    }

    #[test]
    fn expansion_follows_upstream() {
        let lookup = |name: &str| match name {
            "A" => Some("1"),
            "EMPTY" => Some(""),
            _ => None,
        };
        let cases = [
            ("$(A)", "1"),
            ("x$(A)y$(A)", "x1y1"),
            ("$(B)", "$(B)"),
            ("$$(A)", "$(A)"),
            ("$$", "$"),
            ("$(A", "$(A"),
            ("a$b", "a$b"),
            ("trailing$", "trailing$"),
            ("$(EMPTY)é", "é"),
            ("", ""),
        ];
        for (text, expanded) in cases {
            assert_eq!(expand(text, lookup), expanded, "{text:?}");
        }
    }
    #[test]
    fn command_replaces_the_entrypoint_and_args_the_cmd() {
        let env = vec![("WHO".to_owned(), "world".to_owned())];
        let both = container(json!({"name": "c", "command": ["/bin/echo"], "args": ["hi $(WHO)"]}));
        assert_eq!(
            command_and_args(&both, &env),
            (
                Some(vec!["/bin/echo".into()]),
                Some(vec!["hi world".into()])
            )
        );
        let command = container(json!({"name": "c", "command": ["/pause"]}));
        assert_eq!(
            command_and_args(&command, &env),
            (Some(vec!["/pause".into()]), Some(vec![]))
        );
        let args = container(json!({"name": "c", "args": ["-v"]}));
        assert_eq!(
            command_and_args(&args, &env),
            (None, Some(vec!["-v".into()]))
        );
        let neither = container(json!({"name": "c"}));
        assert_eq!(command_and_args(&neither, &env), (None, None));
    }
}
