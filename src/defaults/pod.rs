//! Pod spec defaults (upstream's `SetDefaults_PodSpec`, `SetDefaults_Container`, the volume and
//! probe defaults, and `SetDefaults_Pod` for Pods themselves).

use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EnvVar, EphemeralContainer, Lifecycle, ObjectFieldSelector, Pod,
    PodSpec, Probe, ResourceRequirements, Volume,
};

use super::{set_if_none, set_if_unset};

const DEFAULT_FILE_MODE: i32 = 0o644;
const TOKEN_EXPIRATION_SECONDS: i64 = 3600;

/// Defaults a Pod: its spec, plus what only Pods get (service links, requests taken from
/// limits, host ports under host networking).
pub fn pod(pod: &mut Pod) {
    let spec = pod.spec.get_or_insert_with(Default::default);
    for ctr in spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut().flatten())
    {
        requests_from_limits(ctr);
        if spec.host_network == Some(true) {
            host_ports_from_container_ports(ctr);
        }
    }
    set_if_none(&mut spec.enable_service_links, true);
    pod_spec(spec);
}

/// A container without requests requests what it is limited to.
fn requests_from_limits(ctr: &mut Container) {
    let Some(resources) = ctr.resources.as_mut() else {
        return;
    };
    let Some(limits) = resources.limits.as_ref() else {
        return;
    };
    let requests = resources.requests.get_or_insert_with(Default::default);
    for (name, value) in limits {
        requests
            .entry(name.clone())
            .or_insert_with(|| value.clone());
    }
}

fn host_ports_from_container_ports(ctr: &mut Container) {
    for port in ctr.ports.iter_mut().flatten() {
        if port.host_port.unwrap_or(0) == 0 {
            port.host_port = Some(port.container_port);
        }
    }
}

/// Defaults a pod spec, wherever it appears (Pods and every pod template).
pub fn pod_spec(spec: &mut PodSpec) {
    set_if_unset(&mut spec.dns_policy, "ClusterFirst");
    set_if_unset(&mut spec.restart_policy, "Always");
    set_if_none(&mut spec.security_context, Default::default());
    set_if_none(&mut spec.termination_grace_period_seconds, 30);
    set_if_unset(&mut spec.scheduler_name, "default-scheduler");
    spec.volumes.iter_mut().flatten().for_each(volume);
    for ctr in spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut().flatten())
    {
        container(ctr.parts());
    }
    for ctr in spec.ephemeral_containers.iter_mut().flatten() {
        container(ctr.parts());
    }
}

/// The fields that regular and ephemeral containers share and that have defaults.
struct ContainerParts<'a> {
    image: Option<&'a str>,
    image_pull_policy: &'a mut Option<String>,
    termination_message_path: &'a mut Option<String>,
    termination_message_policy: &'a mut Option<String>,
    resources: &'a mut Option<ResourceRequirements>,
    ports: &'a mut Option<Vec<ContainerPort>>,
    env: &'a mut Option<Vec<EnvVar>>,
    probes: [&'a mut Option<Probe>; 3],
    lifecycle: &'a mut Option<Lifecycle>,
}

trait HasContainerParts {
    fn parts(&mut self) -> ContainerParts<'_>;
}

/// Both container types have the same field names, so one expansion serves both.
macro_rules! container_parts {
    ($($container:ty),*) => {$(
        impl HasContainerParts for $container {
            fn parts(&mut self) -> ContainerParts<'_> {
                ContainerParts {
                    image: self.image.as_deref(),
                    image_pull_policy: &mut self.image_pull_policy,
                    termination_message_path: &mut self.termination_message_path,
                    termination_message_policy: &mut self.termination_message_policy,
                    resources: &mut self.resources,
                    ports: &mut self.ports,
                    env: &mut self.env,
                    probes: [&mut self.liveness_probe, &mut self.readiness_probe, &mut self.startup_probe],
                    lifecycle: &mut self.lifecycle,
                }
            }
        }
    )*};
}

container_parts!(Container, EphemeralContainer);

fn container(ctr: ContainerParts<'_>) {
    if ctr.image_pull_policy.as_deref().is_none_or(str::is_empty) {
        *ctr.image_pull_policy = Some(pull_policy_for(ctr.image.unwrap_or_default()).to_string());
    }
    set_if_unset(ctr.termination_message_path, "/dev/termination-log");
    set_if_unset(ctr.termination_message_policy, "File");
    // Upstream's resources field is a struct that is always serialized, as `{}` when empty.
    set_if_none(ctr.resources, Default::default());
    for port in ctr.ports.iter_mut().flatten() {
        set_if_unset(&mut port.protocol, "TCP");
    }
    for var in ctr.env.iter_mut().flatten() {
        if let Some(field_ref) = var
            .value_from
            .as_mut()
            .and_then(|from| from.field_ref.as_mut())
        {
            field_selector(field_ref);
        }
    }
    for probe in ctr.probes.into_iter().flatten() {
        self::probe(probe);
    }
    if let Some(lifecycle) = ctr.lifecycle {
        for hook in [&mut lifecycle.post_start, &mut lifecycle.pre_stop]
            .into_iter()
            .flatten()
        {
            if let Some(http) = hook.http_get.as_mut() {
                set_if_unset(&mut http.path, "/");
                set_if_unset(&mut http.scheme, "HTTP");
            }
        }
    }
}

/// `Always` for the `latest` tag, written or implied; `IfNotPresent` for any other tag, for a
/// digest without a tag, and for names that do not parse.
fn pull_policy_for(image: &str) -> &'static str {
    let (name, digest) = image
        .split_once('@')
        .map_or((image, None), |(name, digest)| (name, Some(digest)));
    let (repository, tag) = split_tag(name);
    let parses = !repository.is_empty() && !repository.bytes().any(|c| c.is_ascii_uppercase());
    let implied_latest = digest.is_none().then_some("latest");
    if parses && tag.or(implied_latest) == Some("latest") {
        "Always"
    } else {
        "IfNotPresent"
    }
}

/// Splits `repository[:tag]`; a colon before the last `/` belongs to a registry port.
fn split_tag(name: &str) -> (&str, Option<&str>) {
    let last_component = name.rfind('/').map_or(0, |i| i + 1);
    match name[last_component..].rfind(':') {
        Some(i) => (
            &name[..last_component + i],
            Some(&name[last_component + i + 1..]),
        ),
        None => (name, None),
    }
}

fn probe(probe: &mut Probe) {
    set_if_zero(&mut probe.timeout_seconds, 1);
    set_if_zero(&mut probe.period_seconds, 10);
    set_if_zero(&mut probe.success_threshold, 1);
    set_if_zero(&mut probe.failure_threshold, 3);
    if let Some(http) = probe.http_get.as_mut() {
        set_if_unset(&mut http.path, "/");
        set_if_unset(&mut http.scheme, "HTTP");
    }
    if let Some(grpc) = probe.grpc.as_mut() {
        set_if_none(&mut grpc.service, String::new());
    }
}

/// Probe thresholds and periods treat zero as unset.
fn set_if_zero(field: &mut Option<i32>, value: i32) {
    if field.unwrap_or(0) == 0 {
        *field = Some(value);
    }
}

fn field_selector(selector: &mut ObjectFieldSelector) {
    set_if_unset(&mut selector.api_version, "v1");
}

fn volume(volume: &mut Volume) {
    if has_no_source(volume) {
        volume.empty_dir = Some(Default::default());
    }
    if let Some(host_path) = volume.host_path.as_mut() {
        set_if_none(&mut host_path.type_, String::new());
    }
    if let Some(secret) = volume.secret.as_mut() {
        set_if_none(&mut secret.default_mode, DEFAULT_FILE_MODE);
    }
    if let Some(config_map) = volume.config_map.as_mut() {
        set_if_none(&mut config_map.default_mode, DEFAULT_FILE_MODE);
    }
    if let Some(downward) = volume.downward_api.as_mut() {
        set_if_none(&mut downward.default_mode, DEFAULT_FILE_MODE);
        downward
            .items
            .iter_mut()
            .flatten()
            .filter_map(|item| item.field_ref.as_mut())
            .for_each(field_selector);
    }
    if let Some(projected) = volume.projected.as_mut() {
        set_if_none(&mut projected.default_mode, DEFAULT_FILE_MODE);
        for source in projected.sources.iter_mut().flatten() {
            let items = source
                .downward_api
                .iter_mut()
                .flat_map(|d| d.items.iter_mut().flatten());
            items
                .filter_map(|item| item.field_ref.as_mut())
                .for_each(field_selector);
            if let Some(token) = source.service_account_token.as_mut() {
                set_if_none(&mut token.expiration_seconds, TOKEN_EXPIRATION_SECONDS);
            }
        }
    }
    legacy_volume_defaults(volume);
}

/// Defaults of the in-tree storage plugins, kept so stored objects read as upstream's do.
fn legacy_volume_defaults(volume: &mut Volume) {
    if let Some(iscsi) = volume.iscsi.as_mut() {
        set_if_unset(&mut iscsi.iscsi_interface, "default");
    }
    if let Some(rbd) = volume.rbd.as_mut() {
        set_if_unset(&mut rbd.pool, "rbd");
        set_if_unset(&mut rbd.user, "admin");
        set_if_unset(&mut rbd.keyring, "/etc/ceph/keyring");
    }
    if let Some(disk) = volume.azure_disk.as_mut() {
        set_if_none(&mut disk.caching_mode, "ReadWrite".to_string());
        set_if_none(&mut disk.fs_type, "ext4".to_string());
        set_if_none(&mut disk.read_only, false);
        set_if_none(&mut disk.kind, "Shared".to_string());
    }
    if let Some(scale_io) = volume.scale_io.as_mut() {
        set_if_unset(&mut scale_io.storage_mode, "ThinProvisioned");
        set_if_unset(&mut scale_io.fs_type, "xfs");
    }
    if let Some(template) = volume
        .ephemeral
        .as_mut()
        .and_then(|e| e.volume_claim_template.as_mut())
    {
        set_if_none(&mut template.spec.volume_mode, "Filesystem".to_string());
    }
}

fn has_no_source(v: &Volume) -> bool {
    [
        v.aws_elastic_block_store.is_some(),
        v.azure_disk.is_some(),
        v.azure_file.is_some(),
        v.cephfs.is_some(),
        v.cinder.is_some(),
        v.config_map.is_some(),
        v.csi.is_some(),
        v.downward_api.is_some(),
        v.empty_dir.is_some(),
        v.ephemeral.is_some(),
        v.fc.is_some(),
        v.flex_volume.is_some(),
        v.flocker.is_some(),
        v.gce_persistent_disk.is_some(),
        v.git_repo.is_some(),
        v.glusterfs.is_some(),
        v.host_path.is_some(),
        v.image.is_some(),
        v.iscsi.is_some(),
        v.nfs.is_some(),
        v.persistent_volume_claim.is_some(),
        v.photon_persistent_disk.is_some(),
        v.portworx_volume.is_some(),
        v.projected.is_some(),
        v.quobyte.is_some(),
        v.rbd.is_some(),
        v.scale_io.is_some(),
        v.secret.is_some(),
        v.storageos.is_some(),
        v.vsphere_volume.is_some(),
    ]
    .iter()
    .all(|present| !present)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn defaulted_pod(value: serde_json::Value) -> serde_json::Value {
        let mut p: Pod = serde_json::from_value(value).expect("pod");
        pod(&mut p);
        serde_json::to_value(&p).expect("json")
    }

    #[test]
    fn minimal_pod() {
        let out = defaulted_pod(json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"containers": [{"name": "web", "image": "nginx"}]}
        }));
        assert_eq!(
            out,
            json!({
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "web", "namespace": "default"},
                "spec": {
                    "containers": [{
                        "image": "nginx",
                        "imagePullPolicy": "Always",
                        "name": "web",
                        "resources": {},
                        "terminationMessagePath": "/dev/termination-log",
                        "terminationMessagePolicy": "File"
                    }],
                    "dnsPolicy": "ClusterFirst",
                    "enableServiceLinks": true,
                    "restartPolicy": "Always",
                    "schedulerName": "default-scheduler",
                    "securityContext": {},
                    "terminationGracePeriodSeconds": 30
                }
            })
        );
    }

    #[test]
    fn pull_policies_follow_the_tag() {
        assert_eq!(pull_policy_for("nginx"), "Always");
        assert_eq!(pull_policy_for("nginx:latest"), "Always");
        assert_eq!(pull_policy_for("registry.local:5000/nginx"), "Always");
        assert_eq!(pull_policy_for("nginx:1.27"), "IfNotPresent");
        assert_eq!(
            pull_policy_for("registry.local:5000/nginx:1.27"),
            "IfNotPresent"
        );
        assert_eq!(pull_policy_for("nginx@sha256:0123"), "IfNotPresent");
        assert_eq!(pull_policy_for("nginx:latest@sha256:0123"), "Always");
        assert_eq!(pull_policy_for(""), "IfNotPresent");
    }

    #[test]
    fn probes_volumes_ports_env_and_limits() {
        let out = defaulted_pod(json!({
            "metadata": {"name": "web"},
            "spec": {
                "containers": [{
                    "name": "web",
                    "image": "nginx:1.27",
                    "ports": [{"containerPort": 80}],
                    "env": [{"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                    "resources": {"limits": {"cpu": "500m"}},
                    "livenessProbe": {"httpGet": {"port": 80}},
                    "readinessProbe": {"grpc": {"port": 9000}}
                }],
                "volumes": [
                    {"name": "scratch"},
                    {"name": "cfg", "configMap": {"name": "settings"}},
                    {"name": "creds", "secret": {"secretName": "creds"}},
                    {"name": "host", "hostPath": {"path": "/var/log"}},
                    {"name": "token", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}}
                ]
            }
        }));
        let ctr = &out["spec"]["containers"][0];
        assert_eq!(ctr["imagePullPolicy"], "IfNotPresent");
        assert_eq!(
            ctr["ports"],
            json!([{"containerPort": 80, "protocol": "TCP"}])
        );
        assert_eq!(
            ctr["env"][0]["valueFrom"]["fieldRef"],
            json!({"apiVersion": "v1", "fieldPath": "metadata.name"})
        );
        assert_eq!(
            ctr["resources"],
            json!({"limits": {"cpu": "500m"}, "requests": {"cpu": "500m"}})
        );
        assert_eq!(
            ctr["livenessProbe"],
            json!({
                "failureThreshold": 3,
                "httpGet": {"path": "/", "port": 80, "scheme": "HTTP"},
                "periodSeconds": 10,
                "successThreshold": 1,
                "timeoutSeconds": 1
            })
        );
        assert_eq!(
            ctr["readinessProbe"]["grpc"],
            json!({"port": 9000, "service": ""})
        );
        assert_eq!(
            out["spec"]["volumes"],
            json!([
                {"name": "scratch", "emptyDir": {}},
                {"name": "cfg", "configMap": {"name": "settings", "defaultMode": 420}},
                {"name": "creds", "secret": {"secretName": "creds", "defaultMode": 420}},
                {"name": "host", "hostPath": {"path": "/var/log", "type": ""}},
                {"name": "token", "projected": {"defaultMode": 420, "sources": [{"serviceAccountToken": {"expirationSeconds": 3600, "path": "token"}}]}}
            ])
        );
    }

    #[test]
    fn templates_do_not_get_pod_only_defaults() {
        let mut spec: PodSpec =
            serde_json::from_value(json!({"containers": [{"name": "web", "image": "nginx", "resources": {"limits": {"cpu": "1"}}}]}))
                .expect("spec");
        pod_spec(&mut spec);
        assert_eq!(spec.enable_service_links, None);
        assert_eq!(
            spec.containers[0]
                .resources
                .as_ref()
                .and_then(|r| r.requests.as_ref()),
            None
        );
    }

    #[test]
    fn host_network_pods_use_container_ports_as_host_ports() {
        let out = defaulted_pod(json!({
            "metadata": {"name": "web"},
            "spec": {"hostNetwork": true, "containers": [{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}]}
        }));
        assert_eq!(out["spec"]["containers"][0]["ports"][0]["hostPort"], 80);
    }
}
