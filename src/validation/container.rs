//! Containers of a pod spec: names, images, ports, environment, mounts, probes and lifecycle
//! hooks (upstream's `validateContainers`, `validateInitContainers` and what they share).

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EnvFromSource, EnvVar, HTTPGetAction, Lifecycle, LifecycleHandler,
    ObjectFieldSelector, Probe, ResourceFieldSelector, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::field::{ErrorList, FieldError, Path};
use super::meta::non_negative;
use super::names::{
    NameRule, is_config_map_key, is_dns1123_label, is_env_var_name, is_http_header_name,
    is_qualified_name, is_valid_port_name, is_valid_port_num,
};
use super::resources::container_requirements;
use super::volume::local_descending_path;
use super::{opt_slice, text};

const PROTOCOLS: [&str; 3] = ["SCTP", "TCP", "UDP"];
const PULL_POLICIES: [&str; 3] = ["Always", "IfNotPresent", "Never"];
const MOUNT_PROPAGATIONS: [&str; 3] = ["Bidirectional", "HostToContainer", "None"];
const RECURSIVE_READ_ONLY: [&str; 3] = ["Disabled", "Enabled", "IfPossible"];
const ENV_FIELD_PATHS: [&str; 9] = [
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];
const RESOURCE_FIELD_PATHS: [&str; 6] = [
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
];
/// Field paths the downward API converts for `v1` pods; others cannot be referenced at all.
const CONVERTIBLE_FIELD_PATHS: [&str; 14] = [
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.serviceAccountName",
    "spec.schedulerName",
    "status.phase",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];
const INIT_ONLY_WITH_ALWAYS: &str =
    "may not be set for init containers without restartPolicy=Always";

/// What the containers of one pod spec are checked against.
pub struct PodContext<'a> {
    /// Names of the pod's volumes that are themselves valid.
    pub volumes: &'a BTreeSet<String>,
    pub grace_period: Option<i64>,
}

/// The regular containers (`spec.containers`).
pub fn containers(containers: &[Container], ctx: &PodContext, path: &Path) -> ErrorList {
    if containers.is_empty() {
        return vec![FieldError::required(path, "")];
    }
    let mut errs = ErrorList::new();
    let mut names = BTreeSet::new();
    for (i, ctr) in containers.iter().enumerate() {
        let ctr_path = path.index(i);
        errs.extend(common(ctr, ctx, &ctr_path));
        if !names.insert(ctr.name.as_str()) {
            errs.push(FieldError::duplicate(&ctr_path.child("name"), &ctr.name));
        }
        errs.extend(hooks_and_probes(ctr, ctx, &ctr_path));
        if ctr.restart_policy.is_some() {
            errs.push(FieldError::forbidden(
                &ctr_path.child("restartPolicy"),
                "may not be set for non-init containers",
            ));
        }
    }
    errs.extend(host_port_conflicts(containers.iter().enumerate(), path));
    errs
}

/// The init containers; their names must differ from the regular containers' too.
pub fn init_containers(
    init: &[Container],
    regular: &[Container],
    ctx: &PodContext,
    path: &Path,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut names: BTreeSet<&str> = regular.iter().map(|c| c.name.as_str()).collect();
    for (i, ctr) in init.iter().enumerate() {
        let ctr_path = path.index(i);
        errs.extend(common(ctr, ctx, &ctr_path));
        let restart_always = match ctr.restart_policy.as_deref() {
            None => false,
            Some("Always") => true,
            Some(other) => {
                errs.push(FieldError::not_supported(
                    &ctr_path.child("restartPolicy"),
                    other,
                    &["Always"],
                ));
                false
            }
        };
        if names.contains(ctr.name.as_str()) {
            errs.push(FieldError::duplicate(&ctr_path.child("name"), &ctr.name));
        } else if !ctr.name.is_empty() {
            names.insert(&ctr.name);
        }
        errs.extend(host_port_conflicts(std::iter::once((i, ctr)), path));
        if restart_always {
            errs.extend(hooks_and_probes(ctr, ctx, &ctr_path));
        } else {
            errs.extend(forbidden_init_fields(ctr, &ctr_path));
        }
    }
    errs
}

fn forbidden_init_fields(ctr: &Container, path: &Path) -> ErrorList {
    [
        ("lifecycle", ctr.lifecycle.is_some()),
        ("livenessProbe", ctr.liveness_probe.is_some()),
        ("readinessProbe", ctr.readiness_probe.is_some()),
        ("startupProbe", ctr.startup_probe.is_some()),
    ]
    .into_iter()
    .filter(|(_, set)| *set)
    .map(|(field, _)| FieldError::forbidden(&path.child(field), INIT_ONLY_WITH_ALWAYS))
    .collect()
}

/// Checks every kind of container shares.
fn common(ctr: &Container, ctx: &PodContext, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let name_path = path.child("name");
    if ctr.name.is_empty() {
        errs.push(FieldError::required(&name_path, ""));
    } else {
        errs.extend(dns1123_label(&ctr.name, &name_path));
    }
    if text(&ctr.image).is_empty() {
        errs.push(FieldError::required(&path.child("image"), ""));
    }
    errs.extend(termination_message_policy(
        text(&ctr.termination_message_policy),
        &path.child("terminationMessagePolicy"),
    ));
    errs.extend(ports(opt_slice(&ctr.ports), &path.child("ports")));
    errs.extend(env(opt_slice(&ctr.env), &path.child("env")));
    errs.extend(env_from(opt_slice(&ctr.env_from), &path.child("envFrom")));
    errs.extend(volume_mounts(
        opt_slice(&ctr.volume_mounts),
        ctr,
        ctx.volumes,
        &path.child("volumeMounts"),
    ));
    errs.extend(pull_policy(
        text(&ctr.image_pull_policy),
        &path.child("imagePullPolicy"),
    ));
    errs.extend(container_requirements(
        ctr.resources.as_ref(),
        &path.child("resources"),
    ));
    errs
}

pub fn dns1123_label(value: &str, path: &Path) -> ErrorList {
    is_dns1123_label(value)
        .into_iter()
        .map(|m| FieldError::invalid(path, value, m))
        .collect()
}

fn termination_message_policy(policy: &str, path: &Path) -> Option<FieldError> {
    match policy {
        "File" | "FallbackToLogsOnError" => None,
        "" => Some(FieldError::required(path, "")),
        other => Some(FieldError::not_supported(
            path,
            other,
            &["File", "FallbackToLogsOnError"],
        )),
    }
}

fn pull_policy(policy: &str, path: &Path) -> Option<FieldError> {
    match policy {
        "Always" | "IfNotPresent" | "Never" => None,
        "" => Some(FieldError::required(path, "")),
        other => Some(FieldError::not_supported(path, other, &PULL_POLICIES)),
    }
}

/// A protocol that must be set and be TCP, UDP or SCTP.
pub fn protocol(protocol: &str, path: &Path) -> Option<FieldError> {
    match protocol {
        "" => Some(FieldError::required(path, "")),
        p if PROTOCOLS.contains(&p) => None,
        other => Some(FieldError::not_supported(path, other, &PROTOCOLS)),
    }
}

fn ports(ports: &[ContainerPort], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut names = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let port_path = path.index(i);
        let name = text(&port.name);
        if !name.is_empty() {
            let msgs = is_valid_port_name(name);
            if !msgs.is_empty() {
                errs.extend(
                    msgs.into_iter()
                        .map(|m| FieldError::invalid(&port_path.child("name"), name, m)),
                );
            } else if !names.insert(name) {
                errs.push(FieldError::duplicate(&port_path.child("name"), name));
            }
        }
        if port.container_port == 0 {
            errs.push(FieldError::required(&port_path.child("containerPort"), ""));
        } else {
            errs.extend(port_number(
                port.container_port,
                &port_path.child("containerPort"),
            ));
        }
        let host_port = port.host_port.unwrap_or(0);
        if host_port != 0 {
            errs.extend(port_number(host_port, &port_path.child("hostPort")));
        }
        errs.extend(protocol(text(&port.protocol), &port_path.child("protocol")));
    }
    errs
}

pub fn port_number(port: i32, path: &Path) -> ErrorList {
    is_valid_port_num(i64::from(port))
        .into_iter()
        .map(|m| FieldError::invalid(path, port, m))
        .collect()
}

/// A port given by number or by name.
pub fn port_num_or_name(port: &IntOrString, path: &Path) -> ErrorList {
    match port {
        IntOrString::Int(number) => port_number(*number, path),
        IntOrString::String(name) => is_valid_port_name(name)
            .into_iter()
            .map(|m| FieldError::invalid(path, name, m))
            .collect(),
    }
}

/// Host ports may be used once per protocol and host IP.
fn host_port_conflicts<'a>(
    containers: impl Iterator<Item = (usize, &'a Container)>,
    path: &Path,
) -> ErrorList {
    let mut seen = BTreeSet::new();
    let mut errs = ErrorList::new();
    for (ci, ctr) in containers {
        for (pi, port) in opt_slice(&ctr.ports).iter().enumerate() {
            let host_port = port.host_port.unwrap_or(0);
            if host_port == 0 {
                continue;
            }
            let key = format!(
                "{}/{}/{host_port}",
                text(&port.protocol),
                text(&port.host_ip)
            );
            if !seen.insert(key.clone()) {
                errs.push(FieldError::duplicate(
                    &path.index(ci).child("ports").index(pi).child("hostPort"),
                    key,
                ));
            }
        }
    }
    errs
}

fn env(vars: &[EnvVar], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    for (i, var) in vars.iter().enumerate() {
        let var_path = path.index(i);
        if var.name.is_empty() {
            errs.push(FieldError::required(&var_path.child("name"), ""));
        } else {
            let name_path = var_path.child("name");
            errs.extend(
                is_env_var_name(&var.name)
                    .into_iter()
                    .map(|m| FieldError::invalid(&name_path, &var.name, m)),
            );
        }
        errs.extend(env_value_from(var, &var_path.child("valueFrom")));
    }
    errs
}

fn env_value_from(var: &EnvVar, path: &Path) -> ErrorList {
    let Some(from) = &var.value_from else {
        return ErrorList::new();
    };
    let mut errs = ErrorList::new();
    let mut sources = 0;
    if let Some(field_ref) = &from.field_ref {
        sources += 1;
        errs.extend(object_field_selector(
            field_ref,
            &ENV_FIELD_PATHS,
            &path.child("fieldRef"),
        ));
    }
    if let Some(resource_ref) = &from.resource_field_ref {
        sources += 1;
        errs.extend(resource_field_selector(
            resource_ref,
            false,
            &path.child("resourceFieldRef"),
        ));
    }
    if let Some(key_ref) = &from.config_map_key_ref {
        sources += 1;
        errs.extend(key_selector(
            &key_ref.name,
            &key_ref.key,
            &path.child("configMapKeyRef"),
        ));
    }
    if let Some(key_ref) = &from.secret_key_ref {
        sources += 1;
        errs.extend(key_selector(
            &key_ref.name,
            &key_ref.key,
            &path.child("secretKeyRef"),
        ));
    }
    if sources == 0 {
        errs.push(FieldError::invalid(
            path,
            "",
            "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
        ));
    } else if !text(&var.value).is_empty() {
        errs.push(FieldError::invalid(
            path,
            "",
            "may not be specified when `value` is not empty",
        ));
    } else if sources > 1 {
        errs.push(FieldError::invalid(
            path,
            "",
            "may not have more than one field specified at a time",
        ));
    }
    errs
}

/// A downward API field reference; `allowed` lists the plain field paths the context accepts.
pub fn object_field_selector(
    selector: &ObjectFieldSelector,
    allowed: &[&str],
    path: &Path,
) -> ErrorList {
    let api_version = text(&selector.api_version);
    if api_version.is_empty() {
        return vec![FieldError::required(&path.child("apiVersion"), "")];
    }
    let field_path = selector.field_path.as_str();
    if field_path.is_empty() {
        return vec![FieldError::required(&path.child("fieldPath"), "")];
    }
    let (plain, subscript) = split_subscript(field_path);
    let conversion_error = if api_version != "v1" {
        Some(format!("unsupported pod version: {api_version}"))
    } else if !CONVERTIBLE_FIELD_PATHS.contains(&plain)
        || subscript.is_some() && !plain.starts_with("metadata.")
    {
        Some(format!("field label not supported: {field_path}"))
    } else {
        None
    };
    if let Some(err) = conversion_error {
        return vec![FieldError::invalid(
            &path.child("fieldPath"),
            field_path,
            format!("error converting fieldPath: {err}"),
        )];
    }
    match (plain, subscript) {
        ("metadata.annotations", Some(key)) => qualified_name(&key.to_lowercase(), path),
        ("metadata.labels", Some(key)) => qualified_name(key, path),
        (_, Some(_)) => vec![FieldError::invalid(
            path,
            plain,
            "does not support subscript",
        )],
        (_, None) if !allowed.contains(&plain) => {
            let mut sorted = allowed.to_vec();
            sorted.sort_unstable();
            vec![FieldError::not_supported(
                &path.child("fieldPath"),
                plain,
                &sorted,
            )]
        }
        _ => ErrorList::new(),
    }
}

/// Splits `metadata.labels['key']` into the path and the key.
fn split_subscript(field_path: &str) -> (&str, Option<&str>) {
    field_path
        .strip_suffix("']")
        .and_then(|rest| rest.split_once("['"))
        .map_or((field_path, None), |(plain, key)| (plain, Some(key)))
}

pub fn qualified_name(value: &str, path: &Path) -> ErrorList {
    is_qualified_name(value)
        .into_iter()
        .map(|m| FieldError::invalid(path, value, m))
        .collect()
}

/// A reference to a container resource; volumes must also name the container.
pub fn resource_field_selector(
    selector: &ResourceFieldSelector,
    in_volume: bool,
    path: &Path,
) -> Option<FieldError> {
    let resource = selector.resource.as_str();
    if in_volume && text(&selector.container_name).is_empty() {
        Some(FieldError::required(&path.child("containerName"), ""))
    } else if resource.is_empty() {
        Some(FieldError::required(&path.child("resource"), ""))
    } else if !RESOURCE_FIELD_PATHS.contains(&resource)
        && !resource.starts_with("requests.hugepages-")
        && !resource.starts_with("limits.hugepages-")
    {
        Some(FieldError::not_supported(
            &path.child("resource"),
            resource,
            &RESOURCE_FIELD_PATHS,
        ))
    } else {
        None
    }
}

/// A key of a named ConfigMap or Secret.
fn key_selector(name: &str, key: &str, path: &Path) -> ErrorList {
    let name_path = path.child("name");
    let mut errs: ErrorList = NameRule::DnsSubdomain
        .check(name, false)
        .into_iter()
        .map(|m| FieldError::invalid(&name_path, name, m))
        .collect();
    let key_path = path.child("key");
    if key.is_empty() {
        errs.push(FieldError::required(&key_path, ""));
    } else {
        errs.extend(
            is_config_map_key(key)
                .into_iter()
                .map(|m| FieldError::invalid(&key_path, key, m)),
        );
    }
    errs
}

fn env_from(sources: &[EnvFromSource], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    for (i, source) in sources.iter().enumerate() {
        let source_path = path.index(i);
        let prefix = text(&source.prefix);
        if !prefix.is_empty() {
            let prefix_path = source_path.child("prefix");
            errs.extend(
                is_env_var_name(prefix)
                    .into_iter()
                    .map(|m| FieldError::invalid(&prefix_path, prefix, m)),
            );
        }
        let refs = [
            source
                .config_map_ref
                .as_ref()
                .map(|r| (r.name.as_str(), "configMapRef")),
            source
                .secret_ref
                .as_ref()
                .map(|r| (r.name.as_str(), "secretRef")),
        ];
        for (name, field) in refs.iter().flatten() {
            errs.extend(referenced_name(
                name,
                &source_path.child(field).child("name"),
            ));
        }
        match refs.iter().flatten().count() {
            0 => errs.push(FieldError::invalid(
                path,
                "",
                "must specify one of: `configMapRef` or `secretRef`",
            )),
            1 => {}
            _ => errs.push(FieldError::invalid(
                path,
                "",
                "may not have more than one field specified at a time",
            )),
        }
    }
    errs
}

/// The name of a ConfigMap or Secret an `envFrom` reads, checked as a name prefix.
fn referenced_name(name: &str, path: &Path) -> ErrorList {
    if name.is_empty() {
        return vec![FieldError::required(path, "")];
    }
    NameRule::DnsSubdomain
        .check(name, true)
        .into_iter()
        .map(|m| FieldError::invalid(path, name, m))
        .collect()
}

fn volume_mounts(
    mounts: &[VolumeMount],
    ctr: &Container,
    volumes: &BTreeSet<String>,
    path: &Path,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut mount_points = BTreeSet::new();
    for (i, mount) in mounts.iter().enumerate() {
        let mount_path = path.index(i);
        if mount.name.is_empty() {
            errs.push(FieldError::required(&mount_path.child("name"), ""));
        }
        if !volumes.contains(&mount.name) {
            errs.push(FieldError::not_found(
                &mount_path.child("name"),
                &mount.name,
            ));
        }
        if mount.mount_path.is_empty() {
            errs.push(FieldError::required(&mount_path.child("mountPath"), ""));
        }
        if !mount_points.insert(mount.mount_path.as_str()) {
            errs.push(FieldError::invalid(
                &mount_path.child("mountPath"),
                &mount.mount_path,
                "must be unique",
            ));
        }
        errs.extend(sub_paths(mount, path, &mount_path));
        errs.extend(mount_propagation(
            text(&mount.mount_propagation),
            ctr,
            &path.child("mountPropagation"),
        ));
        errs.extend(recursive_read_only(mount, &path.child("recursiveReadOnly")));
    }
    errs
}

/// Upstream reports sub-path problems against the list path, not the entry; kept as is.
fn sub_paths(mount: &VolumeMount, list_path: &Path, mount_path: &Path) -> ErrorList {
    let sub_path = text(&mount.sub_path);
    let sub_path_expr = text(&mount.sub_path_expr);
    let mut errs = ErrorList::new();
    if !sub_path.is_empty() {
        errs.extend(local_descending_path(sub_path, &list_path.child("subPath")));
    }
    if !sub_path_expr.is_empty() {
        if !sub_path.is_empty() {
            errs.push(FieldError::invalid(
                &mount_path.child("subPathExpr"),
                sub_path_expr,
                "subPathExpr and subPath are mutually exclusive",
            ));
        }
        errs.extend(local_descending_path(
            sub_path_expr,
            &list_path.child("subPathExpr"),
        ));
    }
    errs
}

fn mount_propagation(propagation: &str, ctr: &Container, path: &Path) -> ErrorList {
    if propagation.is_empty() {
        return ErrorList::new();
    }
    let mut errs = ErrorList::new();
    if !MOUNT_PROPAGATIONS.contains(&propagation) {
        errs.push(FieldError::not_supported(
            path,
            propagation,
            &MOUNT_PROPAGATIONS,
        ));
    }
    let privileged = ctr
        .security_context
        .as_ref()
        .and_then(|sc| sc.privileged)
        .unwrap_or(false);
    if propagation == "Bidirectional" && !privileged {
        errs.push(FieldError::forbidden(
            path,
            "Bidirectional mount propagation is available only to privileged containers",
        ));
    }
    errs
}

fn recursive_read_only(mount: &VolumeMount, path: &Path) -> ErrorList {
    match text(&mount.recursive_read_only) {
        "" | "Disabled" => ErrorList::new(),
        "Enabled" | "IfPossible" => {
            let mut errs = ErrorList::new();
            if mount.read_only != Some(true) {
                errs.push(FieldError::forbidden(
                    path,
                    "may only be specified when readOnly is true",
                ));
            }
            if !matches!(text(&mount.mount_propagation), "" | "None") {
                errs.push(FieldError::forbidden(
                    path,
                    "may only be specified when mountPropagation is None or not specified",
                ));
            }
            errs
        }
        other => vec![FieldError::not_supported(path, other, &RECURSIVE_READ_ONLY)],
    }
}

/// Lifecycle hooks and probes, allowed on regular and restartable init containers.
fn hooks_and_probes(ctr: &Container, ctx: &PodContext, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if let Some(lifecycle) = &ctr.lifecycle {
        errs.extend(lifecycle_hooks(
            lifecycle,
            ctx.grace_period,
            &path.child("lifecycle"),
        ));
    }
    if let Some(probe) = &ctr.liveness_probe {
        let probe_path = path.child("livenessProbe");
        errs.extend(probe_checks(probe, &probe_path));
        errs.extend(success_threshold_is_one(probe, &probe_path));
    }
    if let Some(probe) = &ctr.readiness_probe {
        let probe_path = path.child("readinessProbe");
        errs.extend(probe_checks(probe, &probe_path));
        if let Some(grace) = probe.termination_grace_period_seconds {
            errs.push(FieldError::invalid(
                &probe_path.child("terminationGracePeriodSeconds"),
                grace,
                "must not be set for readinessProbes",
            ));
        }
    }
    if let Some(probe) = &ctr.startup_probe {
        let probe_path = path.child("startupProbe");
        errs.extend(probe_checks(probe, &probe_path));
        errs.extend(success_threshold_is_one(probe, &probe_path));
    }
    errs
}

fn success_threshold_is_one(probe: &Probe, path: &Path) -> Option<FieldError> {
    let threshold = probe.success_threshold.unwrap_or(0);
    (threshold != 1)
        .then(|| FieldError::invalid(&path.child("successThreshold"), threshold, "must be 1"))
}

fn probe_checks(probe: &Probe, path: &Path) -> ErrorList {
    let handler = Handler {
        exec: probe
            .exec
            .as_ref()
            .map(|e| e.command.as_deref().unwrap_or_default()),
        http_get: probe.http_get.as_ref(),
        tcp_socket: probe.tcp_socket.as_ref().map(|t| &t.port),
        grpc: probe.grpc.as_ref().map(|g| g.port),
        sleep: None,
    };
    let mut errs = handler.check(None, path);
    let numbers = [
        ("initialDelaySeconds", probe.initial_delay_seconds),
        ("timeoutSeconds", probe.timeout_seconds),
        ("periodSeconds", probe.period_seconds),
        ("successThreshold", probe.success_threshold),
        ("failureThreshold", probe.failure_threshold),
    ];
    for (field, value) in numbers {
        errs.extend(non_negative(
            i64::from(value.unwrap_or(0)),
            &path.child(field),
        ));
    }
    if let Some(grace) = probe.termination_grace_period_seconds.filter(|g| *g <= 0) {
        errs.push(FieldError::invalid(
            &path.child("terminationGracePeriodSeconds"),
            grace,
            "must be greater than 0",
        ));
    }
    errs
}

fn lifecycle_hooks(lifecycle: &Lifecycle, grace_period: Option<i64>, path: &Path) -> ErrorList {
    let hooks = [
        (&lifecycle.post_start, "postStart"),
        (&lifecycle.pre_stop, "preStop"),
    ];
    hooks
        .into_iter()
        .filter_map(|(hook, field)| {
            hook.as_ref()
                .map(|hook| lifecycle_handler(hook, grace_period, &path.child(field)))
        })
        .flatten()
        .collect()
}

fn lifecycle_handler(hook: &LifecycleHandler, grace_period: Option<i64>, path: &Path) -> ErrorList {
    let handler = Handler {
        exec: hook
            .exec
            .as_ref()
            .map(|e| e.command.as_deref().unwrap_or_default()),
        http_get: hook.http_get.as_ref(),
        tcp_socket: hook.tcp_socket.as_ref().map(|t| &t.port),
        grpc: None,
        sleep: hook.sleep.as_ref().map(|s| s.seconds),
    };
    handler.check(grace_period, path)
}

/// The actions a probe or hook may take; exactly one must be set.
struct Handler<'a> {
    exec: Option<&'a [String]>,
    http_get: Option<&'a HTTPGetAction>,
    tcp_socket: Option<&'a IntOrString>,
    grpc: Option<i32>,
    sleep: Option<i64>,
}

impl Handler<'_> {
    fn check(&self, grace_period: Option<i64>, path: &Path) -> ErrorList {
        let actions: [(&str, Option<ErrorList>); 5] = [
            (
                "exec",
                self.exec
                    .map(|command| exec_action(command, &path.child("exec"))),
            ),
            (
                "httpGet",
                self.http_get
                    .map(|http| http_get_action(http, &path.child("httpGet"))),
            ),
            (
                "tcpSocket",
                self.tcp_socket
                    .map(|port| port_num_or_name(port, &path.child("tcpSocket").child("port"))),
            ),
            (
                "grpc",
                self.grpc
                    .map(|port| port_number(port, &path.child("grpc").child("port"))),
            ),
            (
                "sleep",
                self.sleep
                    .map(|seconds| sleep_action(seconds, grace_period, &path.child("sleep"))),
            ),
        ];
        let mut errs = ErrorList::new();
        let mut count = 0;
        for (field, action_errs) in actions {
            let Some(action_errs) = action_errs else {
                continue;
            };
            if count > 0 {
                errs.push(FieldError::forbidden(
                    &path.child(field),
                    "may not specify more than 1 handler type",
                ));
            } else {
                count += 1;
                errs.extend(action_errs);
            }
        }
        if count == 0 {
            errs.push(FieldError::required(path, "must specify a handler type"));
        }
        errs
    }
}

fn exec_action(command: &[String], path: &Path) -> ErrorList {
    if command.is_empty() {
        vec![FieldError::required(&path.child("command"), "")]
    } else {
        ErrorList::new()
    }
}

fn http_get_action(http: &HTTPGetAction, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if text(&http.path).is_empty() {
        errs.push(FieldError::required(&path.child("path"), ""));
    }
    errs.extend(port_num_or_name(&http.port, &path.child("port")));
    let scheme = text(&http.scheme);
    if !matches!(scheme, "HTTP" | "HTTPS") {
        errs.push(FieldError::not_supported(
            &path.child("scheme"),
            scheme,
            &["HTTP", "HTTPS"],
        ));
    }
    for header in opt_slice(&http.http_headers) {
        let header_path = path.child("httpHeaders");
        errs.extend(
            is_http_header_name(&header.name)
                .into_iter()
                .map(|m| FieldError::invalid(&header_path, &header.name, m)),
        );
    }
    errs
}

fn sleep_action(seconds: i64, grace_period: Option<i64>, path: &Path) -> ErrorList {
    match grace_period {
        Some(grace) if seconds < 0 || seconds > grace => vec![FieldError::invalid(
            path,
            seconds,
            format!("must be non-negative and less than terminationGracePeriodSeconds ({grace})"),
        )],
        _ => ErrorList::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{EnvVarSource, ExecAction, SecurityContext};

    fn container(name: &str) -> Container {
        Container {
            name: name.into(),
            image: Some("nginx".into()),
            image_pull_policy: Some("Always".into()),
            termination_message_policy: Some("File".into()),
            ..Default::default()
        }
    }

    fn check(list: &[Container]) -> Vec<String> {
        let volumes = BTreeSet::from(["data".to_string()]);
        let ctx = PodContext {
            volumes: &volumes,
            grace_period: Some(30),
        };
        containers(list, &ctx, &Path::new("spec").child("containers"))
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn names_images_and_policies() {
        assert_eq!(check(&[]), vec!["spec.containers: Required value"]);
        let mut bad = container("Web");
        bad.image = None;
        bad.image_pull_policy = Some("Sometimes".into());
        let errs = check(&[bad, container("a"), container("a")]);
        assert!(errs[0].starts_with(
            "spec.containers[0].name: Invalid value: \"Web\": a lowercase RFC 1123 label"
        ));
        assert_eq!(errs[1], "spec.containers[0].image: Required value");
        assert_eq!(
            errs[2],
            "spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", \"Never\""
        );
        assert_eq!(errs[3], "spec.containers[2].name: Duplicate value: \"a\"");
    }

    #[test]
    fn ports_and_host_ports() {
        let mut ctr = container("web");
        let port = |number: i32, host: i32, name: &str, protocol: &str| ContainerPort {
            container_port: number,
            host_port: Some(host),
            name: Some(name.into()),
            protocol: Some(protocol.into()),
            host_ip: None,
        };
        ctr.ports = Some(vec![
            port(80, 8080, "http", "TCP"),
            port(70000, 8080, "http", "TCP"),
            port(53, 0, "dns", "ICMP"),
            port(8443, 70000, "https", "TCP"),
        ]);
        assert_eq!(
            check(&[ctr]),
            vec![
                "spec.containers[0].ports[1].name: Duplicate value: \"http\"",
                "spec.containers[0].ports[1].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
                "spec.containers[0].ports[2].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
                "spec.containers[0].ports[3].hostPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
                "spec.containers[0].ports[1].hostPort: Duplicate value: \"TCP//8080\"",
            ]
        );
    }

    #[test]
    fn env_and_mounts() {
        let mut ctr = container("web");
        ctr.env = Some(vec![
            EnvVar {
                name: "A=B".into(),
                ..Default::default()
            },
            EnvVar {
                name: "POD".into(),
                value: None,
                value_from: Some(EnvVarSource::default()),
            },
            EnvVar {
                name: "NODE".into(),
                value: None,
                value_from: Some(EnvVarSource {
                    field_ref: Some(ObjectFieldSelector {
                        api_version: Some("v1".into()),
                        field_path: "status.phase".into(),
                    }),
                    ..Default::default()
                }),
            },
        ]);
        ctr.volume_mounts = Some(vec![VolumeMount {
            name: "cache".into(),
            mount_path: "/cache".into(),
            ..Default::default()
        }]);
        assert_eq!(
            check(&[ctr]),
            vec![
                "spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='",
                "spec.containers[0].env[1].valueFrom: Invalid value: \"\": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
                "spec.containers[0].env[2].valueFrom.fieldRef.fieldPath: Unsupported value: \"status.phase\": supported values: \"metadata.name\", \"metadata.namespace\", \"metadata.uid\", \"spec.nodeName\", \"spec.serviceAccountName\", \"status.hostIP\", \"status.hostIPs\", \"status.podIP\", \"status.podIPs\"",
                "spec.containers[0].volumeMounts[0].name: Not found: \"cache\"",
            ]
        );
    }

    #[test]
    fn probes_and_hooks() {
        let mut ctr = container("web");
        ctr.liveness_probe = Some(Probe {
            exec: Some(ExecAction {
                command: Some(vec!["true".into()]),
            }),
            success_threshold: Some(2),
            timeout_seconds: Some(-1),
            ..Default::default()
        });
        ctr.readiness_probe = Some(Probe::default());
        ctr.lifecycle = Some(Lifecycle {
            pre_stop: Some(LifecycleHandler {
                sleep: Some(k8s_openapi::api::core::v1::SleepAction { seconds: 60 }),
                ..Default::default()
            }),
            ..Default::default()
        });
        ctr.security_context = Some(SecurityContext::default());
        assert_eq!(
            check(&[ctr]),
            vec![
                "spec.containers[0].lifecycle.preStop.sleep: Invalid value: 60: must be non-negative and less than terminationGracePeriodSeconds (30)",
                "spec.containers[0].livenessProbe.timeoutSeconds: Invalid value: -1: must be greater than or equal to 0",
                "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
                "spec.containers[0].readinessProbe: Required value: must specify a handler type",
            ]
        );
    }

    #[test]
    fn init_containers_share_names_and_forbid_probes() {
        let volumes = BTreeSet::new();
        let ctx = PodContext {
            volumes: &volumes,
            grace_period: Some(30),
        };
        let mut init = container("web");
        init.readiness_probe = Some(Probe::default());
        let errs: Vec<String> = init_containers(
            &[init],
            &[container("web")],
            &ctx,
            &Path::new("spec").child("initContainers"),
        )
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(
            errs,
            vec![
                "spec.initContainers[0].name: Duplicate value: \"web\"",
                "spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always",
            ]
        );
    }
}
