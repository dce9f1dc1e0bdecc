//! A pod's containers in the engine: what one is created with (joining the sandbox's network
//! and IPC namespaces, the command and environment the agent prepared, the limits and volumes
//! of its spec) and how an inspected instance reads back as the seam's state.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, ContainerStateStatusEnum, HostConfig,
    HostConfigLogConfig, RestartPolicy, RestartPolicyNameEnum,
};
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Container, PodSpec};

use crate::config::quantity_nanos;
use crate::runtime::{ContainerState, Prepared, Termination};

/// Where a container's volumes come from.
#[derive(Debug, Default, PartialEq)]
pub struct Mounts {
    /// `source:target[:ro]` bind mounts.
    pub binds: Vec<String>,
    /// Memory-backed `emptyDir`s, by target.
    pub tmpfs: HashMap<String, String>,
    /// Directories to create before the container starts, with the mode each is given:
    /// `emptyDir`s on disk (and their subpaths) writable by everyone, as upstream makes them,
    /// so that a container running as any user can write there; host paths of type
    /// `DirectoryOrCreate` with `None`, made if missing (0755 under the usual umask) and
    /// otherwise left as they are.
    pub directories: Vec<(PathBuf, Option<u32>)>,
}

/// The mode of an `emptyDir` on disk, upstream's.
const EMPTY_DIR_MODE: Option<u32> = Some(0o777);

/// The mounts of `container`'s `volumeMounts`: `emptyDir` under `volumes_dir/NAME`, or in
/// memory; `hostPath` as it is; the directories the agent `prepared` (ConfigMaps, Secrets, the
/// downward API) read-only. Other volume kinds are not supported yet and are skipped.
pub fn mounts(
    pod: &PodSpec,
    container: &Container,
    volumes_dir: &Path,
    prepared: &HashMap<String, PathBuf>,
) -> Mounts {
    let mut mounts = Mounts::default();
    let volumes = pod.volumes.as_deref().unwrap_or_default();
    for mount in container.volume_mounts.iter().flatten() {
        let Some(volume) = volumes.iter().find(|v| v.name == mount.name) else {
            continue;
        };
        let prepared = prepared.get(&volume.name);
        let read_only = mount.read_only == Some(true) || prepared.is_some();
        let sub_path = mount.sub_path.as_deref().filter(|p| !p.is_empty());
        if sub_path.is_some_and(|p| !is_relative_within(Path::new(p))) {
            tracing::warn!(volume = %mount.name, "a subPath leaving its volume is ignored");
            continue;
        }
        let within = |base: PathBuf| match sub_path {
            Some(sub) => base.join(sub),
            None => base,
        };
        let source = if let Some(dir) = prepared {
            within(dir.clone())
        } else if let Some(empty) = &volume.empty_dir {
            if empty.medium.as_deref() == Some("Memory") && sub_path.is_none() {
                let options = if read_only { "ro" } else { "rw" };
                mounts
                    .tmpfs
                    .insert(mount.mount_path.clone(), options.to_owned());
                continue;
            }
            let root = volumes_dir.join(&volume.name);
            let source = within(root.clone());
            mounts.directories.push((root, EMPTY_DIR_MODE));
            if source != volumes_dir.join(&volume.name) {
                mounts.directories.push((source.clone(), EMPTY_DIR_MODE));
            }
            source
        } else if let Some(host) = &volume.host_path {
            let source = within(PathBuf::from(&host.path));
            if host.type_.as_deref() == Some("DirectoryOrCreate") {
                mounts.directories.push((source.clone(), None));
            }
            source
        } else {
            tracing::warn!(volume = %volume.name, "this kind of volume is not supported");
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
    prepared: &Prepared,
    labels: HashMap<String, String>,
    sandbox_id: &str,
    mounts: Mounts,
) -> ContainerCreateBody {
    let limits = spec.resources.as_ref().and_then(|r| r.limits.as_ref());
    let requests = spec.resources.as_ref().and_then(|r| r.requests.as_ref());
    let limit = |name: &str| {
        limits
            .and_then(|l| l.get(name))
            .and_then(|q| quantity_nanos(&q.0))
    };
    let cpu_request = requests
        .and_then(|r| r.get("cpu"))
        .or_else(|| limits.and_then(|l| l.get("cpu")))
        .and_then(|q| quantity_nanos(&q.0));
    let int = |n: i128| i64::try_from(n).ok();
    let namespace = format!("container:{sandbox_id}");
    ContainerCreateBody {
        image: spec.image.clone(),
        entrypoint: prepared.command.clone(),
        cmd: prepared.args.clone(),
        env: Some(
            prepared
                .env
                .iter()
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
            nano_cpus: limit("cpu").and_then(int),
            // Upstream's shares: 1024 per CPU requested (in whole millicores), at least 2.
            cpu_shares: cpu_request
                .and_then(|nanos| int(((nanos + 999_999) / 1_000_000 * 1024 / 1000).max(2))),
            memory: limit("memory").and_then(|nanos| int((nanos + 999_999_999) / 1_000_000_000)),
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
        let prepared =
            HashMap::from([("config".to_owned(), PathBuf::from("/pods/u/volumes/config"))]);
        let mounts = mounts(&pod, &spec, Path::new("/pods/u/volumes"), &prepared);
        assert_eq!(
            mounts.binds,
            [
                "/pods/u/volumes/scratch:/scratch",
                "/pods/u/volumes/scratch/a/b:/sub",
                "/var/log:/logs:ro",
                "/pods/u/volumes/config:/config:ro",
            ]
        );
        assert_eq!(mounts.tmpfs, HashMap::from([("/fast".into(), "rw".into())]));
        assert_eq!(
            mounts.directories,
            [
                (PathBuf::from("/pods/u/volumes/scratch"), Some(0o777)),
                (PathBuf::from("/pods/u/volumes/scratch"), Some(0o777)),
                (PathBuf::from("/pods/u/volumes/scratch/a/b"), Some(0o777)),
                (PathBuf::from("/var/log"), None),
            ]
        );

        let prepared = Prepared {
            command: Some(vec!["/pause".to_owned()]),
            args: Some(vec![]),
            env: vec![("A".to_owned(), "1".to_owned())],
            ..Prepared::default()
        };
        let body = create_body(&spec, &prepared, HashMap::new(), "abc", mounts);
        let host = body.host_config.unwrap();
        assert_eq!(host.network_mode.as_deref(), Some("container:abc"));
        assert_eq!(host.ipc_mode.as_deref(), Some("container:abc"));
        assert_eq!(host.nano_cpus, Some(250_000_000));
        assert_eq!(host.cpu_shares, Some(256));
        assert_eq!(host.memory, Some(67_108_864));
        assert_eq!(body.entrypoint, Some(vec!["/pause".to_owned()]));
        assert_eq!(body.cmd, Some(vec![]));
        assert_eq!(body.env, Some(vec!["A=1".to_owned()]));
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
