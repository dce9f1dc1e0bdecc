//! A pod's containers in the engine: what one is created with (joining the sandbox's network
//! and IPC namespaces, the command, environment, limits and volumes of its spec) and how an
//! inspected instance reads back as the seam's state.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, ContainerStateStatusEnum, HostConfig,
    HostConfigLogConfig, RestartPolicy, RestartPolicyNameEnum,
};
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Container, PodSpec};

use super::env::{self, PodFields};
use crate::runtime::{ContainerState, Termination};

/// Where a container's volumes come from.
#[derive(Debug, Default, PartialEq)]
pub struct Mounts {
    /// `source:target[:ro]` bind mounts.
    pub binds: Vec<String>,
    /// Memory-backed `emptyDir`s, by target.
    pub tmpfs: HashMap<String, String>,
    /// Directories to create before the container starts: `emptyDir`s on disk, and host
    /// paths of type `DirectoryOrCreate`.
    pub directories: Vec<PathBuf>,
}

/// The mounts of `container`'s `volumeMounts`: `emptyDir` under `pod_dir/volumes/NAME`, or
/// in memory; `hostPath` as it is. Other volume kinds are not supported yet and are skipped.
pub fn mounts(pod: &PodSpec, container: &Container, pod_dir: &Path) -> Mounts {
    let mut mounts = Mounts::default();
    let volumes = pod.volumes.as_deref().unwrap_or_default();
    for mount in container.volume_mounts.iter().flatten() {
        let Some(volume) = volumes.iter().find(|v| v.name == mount.name) else {
            continue;
        };
        let read_only = mount.read_only == Some(true);
        let sub_path = mount.sub_path.as_deref().filter(|p| !p.is_empty());
        if sub_path.is_some_and(|p| !is_relative_within(Path::new(p))) {
            tracing::warn!(volume = %mount.name, "a subPath leaving its volume is ignored");
            continue;
        }
        let within = |base: PathBuf| match sub_path {
            Some(sub) => base.join(sub),
            None => base,
        };
        let source = if let Some(empty) = &volume.empty_dir {
            if empty.medium.as_deref() == Some("Memory") && sub_path.is_none() {
                let options = if read_only { "ro" } else { "rw" };
                mounts
                    .tmpfs
                    .insert(mount.mount_path.clone(), options.to_owned());
                continue;
            }
            let source = within(pod_dir.join("volumes").join(&volume.name));
            mounts.directories.push(source.clone());
            source
        } else if let Some(host) = &volume.host_path {
            let source = within(PathBuf::from(&host.path));
            if host.type_.as_deref() == Some("DirectoryOrCreate") {
                mounts.directories.push(source.clone());
            }
            source
        } else {
            tracing::warn!(volume = %volume.name, "only emptyDir and hostPath volumes are supported");
            continue;
        };
        let suffix = if read_only { ":ro" } else { "" };
        mounts
            .binds
            .push(format!("{}:{}{suffix}", source.display(), mount.mount_path));
    }
    mounts
}

/// Whether `path` is relative and never climbs out of where it is joined.
fn is_relative_within(path: &Path) -> bool {
    path.components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// What the engine is asked to create for one container of a pod.
pub fn create_body(
    spec: &Container,
    fields: &PodFields,
    labels: HashMap<String, String>,
    sandbox_id: &str,
    mounts: Mounts,
) -> ContainerCreateBody {
    let environment = env::environment(spec, fields);
    let (entrypoint, cmd) = env::command_and_args(spec, &environment);
    let limits = spec.resources.as_ref().and_then(|r| r.limits.as_ref());
    let requests = spec.resources.as_ref().and_then(|r| r.requests.as_ref());
    let limit = |name: &str| limits.and_then(|l| l.get(name)).and_then(|q| amount(&q.0));
    let cpu_request = requests
        .and_then(|r| r.get("cpu"))
        .or_else(|| limits.and_then(|l| l.get("cpu")))
        .and_then(|q| amount(&q.0));
    let namespace = format!("container:{sandbox_id}");
    ContainerCreateBody {
        image: spec.image.clone(),
        entrypoint,
        cmd,
        env: Some(
            environment
                .into_iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect(),
        ),
        working_dir: spec.working_dir.clone().filter(|dir| !dir.is_empty()),
        tty: spec.tty,
        open_stdin: spec.stdin,
        stdin_once: spec.stdin_once,
        labels: Some(labels),
        host_config: Some(HostConfig {
            network_mode: Some(namespace.clone()),
            ipc_mode: Some(namespace),
            binds: (!mounts.binds.is_empty()).then_some(mounts.binds),
            tmpfs: (!mounts.tmpfs.is_empty()).then_some(mounts.tmpfs),
            nano_cpus: limit("cpu").map(|cpus| (cpus * 1e9).round() as i64),
            // Upstream's shares: 1024 per CPU requested, at least 2.
            cpu_shares: cpu_request.map(|cpus| ((cpus * 1024.0).round() as i64).max(2)),
            memory: limit("memory").map(|bytes| bytes.round() as i64),
            restart_policy: Some(RestartPolicy {
                name: Some(RestartPolicyNameEnum::NO),
                maximum_retry_count: None,
            }),
            log_config: Some(HostConfigLogConfig {
                typ: Some("json-file".to_owned()),
                config: None,
            }),
            ..HostConfig::default()
        }),
        ..ContainerCreateBody::default()
    }
}

/// The number a Kubernetes quantity stands for (`500m` is 0.5, `1Gi` 2³⁰); `None` when it is
/// not one.
fn amount(text: &str) -> Option<f64> {
    const SUFFIXES: [(&str, f64); 13] = [
        ("Ki", 1024.0),
        ("Mi", 1_048_576.0),
        ("Gi", 1_073_741_824.0),
        ("Ti", 1_099_511_627_776.0),
        ("Pi", 1_125_899_906_842_624.0),
        ("Ei", 1_152_921_504_606_846_976.0),
        ("m", 1e-3),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
    ];
    let (number, scale) = SUFFIXES
        .iter()
        .find_map(|(suffix, scale)| {
            let number = text.strip_suffix(suffix)?;
            number.parse::<f64>().ok().map(|n| (n, *scale))
        })
        .or_else(|| text.parse::<f64>().ok().map(|n| (n, 1.0)))?;
    let value = number * scale;
    (value.is_finite() && value >= 0.0).then_some(value)
}

/// An inspected container instance as the seam sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    /// `docker://ID`.
    pub id: String,
    /// The image as the spec named it.
    pub image: String,
    /// The engine's ID of the image, `sha256:…`.
    pub image_id: String,
    pub state: ContainerState,
}

/// Reads an inspected instance. One created but never started (its start failed, or the
/// agent stopped in between) counts as exited, so the restart logic takes it from there.
pub fn observed(inspect: &ContainerInspectResponse) -> Observed {
    let id = format!("docker://{}", inspect.id.as_deref().unwrap_or_default());
    let state = inspect.state.clone().unwrap_or_default();
    let created = timestamp(inspect.created.as_deref()).unwrap_or(Timestamp::UNIX_EPOCH);
    let started_at = timestamp(state.started_at.as_deref()).unwrap_or(created);
    let running = matches!(
        state.status,
        Some(
            ContainerStateStatusEnum::RUNNING
                | ContainerStateStatusEnum::PAUSED
                | ContainerStateStatusEnum::RESTARTING
        )
    );
    let never_ran = matches!(state.status, Some(ContainerStateStatusEnum::CREATED));
    let exit_code = state
        .exit_code
        .and_then(|code| i32::try_from(code).ok())
        .unwrap_or_default();
    let state = if running {
        ContainerState::Running { started_at }
    } else {
        let reason = match (never_ran, state.oom_killed, exit_code) {
            (true, ..) => "ContainerCannotRun",
            (_, Some(true), _) => "OOMKilled",
            (_, _, 0) => "Completed",
            _ => "Error",
        };
        ContainerState::Exited(Termination {
            container_id: id.clone(),
            // An instance that never ran has no exit code of its own; upstream reports 128.
            exit_code: if never_ran && exit_code == 0 {
                128
            } else {
                exit_code
            },
            reason: reason.to_owned(),
            started_at,
            // The engine records the start once the process runs, so one that exits at once
            // can seem to end before it started.
            finished_at: timestamp(state.finished_at.as_deref())
                .map_or(started_at, |finished| finished.max(started_at)),
        })
    };
    Observed {
        id,
        image: inspect
            .config
            .as_ref()
            .and_then(|c| c.image.clone())
            .unwrap_or_default(),
        image_id: inspect.image.clone().unwrap_or_default(),
        state,
    }
}

/// A time the engine reports; its zero time (year 1) means never.
fn timestamp(text: Option<&str>) -> Option<Timestamp> {
    text?
        .parse::<Timestamp>()
        .ok()
        .filter(|t| *t > Timestamp::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quantities_become_numbers() {
        assert_eq!(amount("500m"), Some(0.5));
        assert_eq!(amount("2"), Some(2.0));
        assert_eq!(amount("128Mi"), Some(134_217_728.0));
        assert_eq!(amount("1G"), Some(1e9));
        assert_eq!(amount("1e3"), Some(1000.0));
        assert_eq!(amount("lots"), None);
        assert_eq!(amount("-1"), None);
    }

    #[test]
    fn containers_join_the_sandbox_with_their_limits_and_volumes() {
        let pod: PodSpec = serde_json::from_value(json!({
            "containers": [],
            "volumes": [
                {"name": "scratch", "emptyDir": {}},
                {"name": "fast", "emptyDir": {"medium": "Memory"}},
                {"name": "logs", "hostPath": {"path": "/var/log", "type": "DirectoryOrCreate"}},
                {"name": "config", "configMap": {"name": "c"}},
            ],
        }))
        .unwrap();
        let spec: Container = serde_json::from_value(json!({
            "name": "web", "image": "nginx:1.27", "workingDir": "/srv",
            "command": ["/pause"], "tty": true,
            "resources": {"limits": {"cpu": "250m", "memory": "64Mi"}},
            "volumeMounts": [
                {"name": "scratch", "mountPath": "/scratch"},
                {"name": "scratch", "mountPath": "/sub", "subPath": "a/b"},
                {"name": "scratch", "mountPath": "/escape", "subPath": "../x"},
                {"name": "fast", "mountPath": "/fast"},
                {"name": "logs", "mountPath": "/logs", "readOnly": true},
                {"name": "config", "mountPath": "/config"},
                {"name": "missing", "mountPath": "/missing"},
            ],
        }))
        .unwrap();
        let mounts = mounts(&pod, &spec, Path::new("/pods/u"));
        assert_eq!(
            mounts.binds,
            [
                "/pods/u/volumes/scratch:/scratch",
                "/pods/u/volumes/scratch/a/b:/sub",
                "/var/log:/logs:ro"
            ]
        );
        assert_eq!(mounts.tmpfs, HashMap::from([("/fast".into(), "rw".into())]));
        assert_eq!(mounts.directories.len(), 3);

        let fields = PodFields {
            name: "web",
            namespace: "default",
            uid: "u",
            node_name: "n",
            service_account: "default",
            pod_ip: "10.244.1.2",
            host_ip: "172.18.0.3",
        };
        let body = create_body(&spec, &fields, HashMap::new(), "abc", mounts);
        let host = body.host_config.unwrap();
        assert_eq!(host.network_mode.as_deref(), Some("container:abc"));
        assert_eq!(host.ipc_mode.as_deref(), Some("container:abc"));
        assert_eq!(host.nano_cpus, Some(250_000_000));
        assert_eq!(host.cpu_shares, Some(256));
        assert_eq!(host.memory, Some(67_108_864));
        assert_eq!(body.entrypoint, Some(vec!["/pause".to_owned()]));
        assert_eq!(body.cmd, Some(vec![]));
        assert_eq!(body.working_dir.as_deref(), Some("/srv"));
        assert_eq!(body.tty, Some(true));
    }

    #[test]
    fn inspected_states_read_back_as_running_or_exited() {
        let inspect = |state: serde_json::Value| -> ContainerInspectResponse {
            serde_json::from_value(json!({
                "Id": "abc", "Created": "2025-01-01T00:00:00Z", "Image": "sha256:1",
                "Config": {"Image": "nginx:1.27"}, "State": state,
            }))
            .unwrap()
        };
        let running = observed(&inspect(json!({
            "Status": "running", "StartedAt": "2025-01-01T00:00:01.5Z",
            "FinishedAt": "0001-01-01T00:00:00Z",
        })));
        assert_eq!(running.id, "docker://abc");
        assert_eq!(running.image, "nginx:1.27");
        assert_eq!(
            running.state,
            ContainerState::Running {
                started_at: "2025-01-01T00:00:01.5Z".parse().unwrap()
            }
        );
        let exit = |state| match observed(&inspect(state)).state {
            ContainerState::Exited(t) => (t.exit_code, t.reason),
            ContainerState::Running { .. } => panic!("not exited"),
        };
        let ended = |code, oom| {
            json!({"Status": "exited", "ExitCode": code, "OOMKilled": oom,
                   "StartedAt": "2025-01-01T00:00:01Z", "FinishedAt": "2025-01-01T00:00:02Z"})
        };
        assert_eq!(exit(ended(0, false)), (0, "Completed".into()));
        assert_eq!(exit(ended(3, false)), (3, "Error".into()));
        assert_eq!(exit(ended(137, true)), (137, "OOMKilled".into()));
        assert_eq!(
            exit(json!({"Status": "created", "ExitCode": 127, "Error": "no such file"})),
            (127, "ContainerCannotRun".into())
        );
        assert_eq!(
            exit(json!({"Status": "created"})),
            (128, "ContainerCannotRun".into())
        );
    }
}
