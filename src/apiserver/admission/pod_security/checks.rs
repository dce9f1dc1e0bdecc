//! The Pod Security Standards' checks, as upstream's k8s.io/pod-security-admission/policy has
//! them in Kubernetes 1.33: each a pure function of a pod's metadata and spec (or a pod
//! template's) and of the policy version, answering upstream's forbidden reason and detail
//! word for word, since people search for exactly those words. Which checks a level runs at a
//! version, and in which order, is upstream's registry's.
//!
//! As a 1.33 server with its default feature gates, pods with `hostUsers: false` are held to
//! the same rules as others (the relaxations of `UserNamespacesPodSecurityStandards`, and the
//! host probe check of 1.34, came later).

use std::collections::BTreeSet;

use serde_json::Value;

use super::policy::{Level, LevelVersion};
use crate::validation::GoValue;

/// Why a check refuses a pod: upstream's `ForbiddenReason`, short and always shown, and
/// `ForbiddenDetail`, what exactly, shown when one pod is judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub reason: String,
    pub detail: String,
}

impl Violation {
    fn new(reason: &str, detail: String) -> Violation {
        Violation {
            reason: reason.to_owned(),
            detail,
        }
    }
}

/// A pod, or the template of a workload's pods, as the checks read it.
#[derive(Debug, Clone, Copy)]
pub struct Pod<'a> {
    pub metadata: &'a Value,
    pub spec: &'a Value,
}

impl<'a> Pod<'a> {
    /// A pod or a pod template: both hold `metadata` and `spec`.
    pub fn of(object: &'a Value) -> Pod<'a> {
        Pod {
            metadata: &object["metadata"],
            spec: &object["spec"],
        }
    }
}

/// A check judges a pod at a policy version (the minor of `v1.N`): upstream's versions of
/// one check are folded into one function.
type CheckFn = fn(Pod<'_>, u32) -> Option<Violation>;

/// One of upstream's checks.
struct Check {
    /// Upstream's ID: a level's checks run, and are reported, in the order of their IDs.
    id: &'static str,
    level: Level,
    /// The first policy version (`v1.N`) that has the check.
    since: u32,
    /// The baseline check this restricted one stands in for with a stricter rule.
    replaces: Option<&'static str>,
    check: CheckFn,
}

impl Check {
    const fn baseline(id: &'static str, check: CheckFn) -> Check {
        Check {
            id,
            level: Level::Baseline,
            since: 0,
            replaces: None,
            check,
        }
    }

    const fn restricted(
        id: &'static str,
        since: u32,
        replaces: Option<&'static str>,
        check: CheckFn,
    ) -> Check {
        Check {
            id,
            level: Level::Restricted,
            since,
            replaces,
            check,
        }
    }
}

/// Every check, baseline then restricted, each level's by ID (Go's byte order).
const CHECKS: &[Check] = &[
    Check::baseline("appArmorProfile", app_armor_profile),
    Check::baseline("capabilities_baseline", capabilities_baseline),
    Check::baseline("hostNamespaces", host_namespaces),
    Check::baseline("hostPathVolumes", host_path_volumes),
    Check::baseline("hostPorts", host_ports),
    Check::baseline("privileged", privileged),
    Check::baseline("procMount", proc_mount),
    Check::baseline("seLinuxOptions", se_linux_options),
    Check::baseline("seccompProfile_baseline", seccomp_baseline),
    Check::baseline("sysctls", sysctls),
    Check::baseline("windowsHostProcess", host_process),
    Check::restricted(
        "allowPrivilegeEscalation",
        8,
        None,
        allow_privilege_escalation,
    ),
    Check::restricted(
        "capabilities_restricted",
        22,
        Some("capabilities_baseline"),
        capabilities_restricted,
    ),
    Check::restricted(
        "restrictedVolumes",
        0,
        Some("hostPathVolumes"),
        restricted_volumes,
    ),
    Check::restricted("runAsNonRoot", 0, None, run_as_non_root),
    Check::restricted("runAsUser", 23, None, run_as_user),
    Check::restricted(
        "seccompProfile_restricted",
        19,
        Some("seccompProfile_baseline"),
        seccomp_restricted,
    ),
];

/// What `pod` violates of a level at a version, in upstream's order: `privileged` allows
/// everything, `baseline` runs the baseline checks, `restricted` all of them but the baseline
/// checks its own stricter ones replace.
pub fn evaluate(policy: LevelVersion, pod: Pod<'_>) -> Vec<Violation> {
    let minor = policy.version.minor();
    let runs = |check: &&Check| check.level <= policy.level && check.since <= minor;
    let replaced: Vec<&str> = CHECKS
        .iter()
        .filter(runs)
        .filter_map(|c| c.replaces)
        .collect();
    CHECKS
        .iter()
        .filter(runs)
        .filter(|c| !replaced.contains(&c.id))
        .filter_map(|c| (c.check)(pod, minor))
        .collect()
}

/// Upstream's `ForbiddenDetail` of a pod's violations: each reason, with its detail in
/// parentheses when it has one.
pub fn detailed(violations: &[Violation]) -> String {
    let each: Vec<String> = violations
        .iter()
        .map(|v| match v.detail.as_str() {
            "" => v.reason.clone(),
            detail => format!("{} ({detail})", v.reason),
        })
        .collect();
    each.join(", ")
}

/// Upstream's `ForbiddenReason` of a pod's violations: the reasons alone.
pub fn reasons(violations: &[Violation]) -> String {
    let each: Vec<&str> = violations.iter().map(|v| v.reason.as_str()).collect();
    each.join(", ")
}

/// Baseline: an AppArmor profile, by field or by the beta annotations, may only be the
/// runtime's default or one loaded on the node.
fn app_armor_profile(pod: Pod<'_>, _: u32) -> Option<Violation> {
    const ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";
    let mut types: BTreeSet<&str> = BTreeSet::new();
    let pod_type = forbidden_app_armor(&pod.spec["securityContext"]);
    types.extend(pod_type);
    let mut bad = Vec::new();
    for c in containers(pod.spec) {
        if let Some(kind) = forbidden_app_armor(&c["securityContext"]) {
            bad.push(name(c));
            types.insert(kind);
        }
    }
    let mut setters = setters(pod_type.is_some(), &bad);
    let mut values: Vec<String> = types.iter().map(|t| t.to_string()).collect();
    let mut annotations: Vec<String> = pod.metadata["annotations"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(key, value)| {
            let value = value.as_str().unwrap_or_default();
            let allowed =
                value.is_empty() || value == "runtime/default" || value.starts_with("localhost/");
            (key.starts_with(ANNOTATION_PREFIX) && !allowed)
                .then(|| format!("{key}={}", value.go_value()))
        })
        .collect();
    if !annotations.is_empty() {
        annotations.sort();
        setters.push(pluralize("annotation", "annotations", annotations.len()).to_owned());
        values.append(&mut annotations);
    }
    (!setters.is_empty()).then(|| {
        Violation::new(
            pluralize(
                "forbidden AppArmor profile",
                "forbidden AppArmor profiles",
                values.len(),
            ),
            format!(
                "{} must not set AppArmor profile type to {}",
                setters.join(" and "),
                join_quote(&values)
            ),
        )
    })
}

/// The AppArmor profile type a security context sets that baseline forbids.
fn forbidden_app_armor(context: &Value) -> Option<&str> {
    let profile = &context["appArmorProfile"];
    let kind = profile["type"].as_str().unwrap_or_default();
    let allowed = matches!(kind, "RuntimeDefault" | "Localhost");
    (profile.is_object() && !allowed).then_some(kind)
}

/// The capabilities a container runtime grants by default, which baseline lets containers add.
const DEFAULT_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// Baseline: containers add no capability beyond the runtime's default set.
fn capabilities_baseline(pod: Pod<'_>, _: u32) -> Option<Violation> {
    let mut bad = Vec::new();
    let mut added: BTreeSet<&str> = BTreeSet::new();
    for c in containers(pod.spec) {
        let extra: Vec<&str> = strings(&c["securityContext"]["capabilities"]["add"])
            .filter(|cap| !DEFAULT_CAPABILITIES.contains(cap))
            .collect();
        if !extra.is_empty() {
            bad.push(name(c));
            added.extend(extra);
        }
    }
    (!bad.is_empty()).then(|| {
        Violation::new(
            "non-default capabilities",
            format!(
                "{} must not include {} in securityContext.capabilities.add",
                containers_named(&bad),
                join_quote(&added)
            ),
        )
    })
}

/// Baseline: no sharing of the host's network, PID or IPC namespace.
fn host_namespaces(pod: Pod<'_>, _: u32) -> Option<Violation> {
    let shared: Vec<String> = ["hostNetwork", "hostPID", "hostIPC"]
        .into_iter()
        .filter(|field| pod.spec[*field] == true)
        .map(|field| format!("{field}=true"))
        .collect();
    (!shared.is_empty()).then(|| Violation::new("host namespaces", shared.join(", ")))
}

/// Baseline: no hostPath volumes.
fn host_path_volumes(pod: Pod<'_>, _: u32) -> Option<Violation> {
    let bad: Vec<&str> = items(pod.spec, "volumes")
        .iter()
        .filter(|v| !v["hostPath"].is_null())
        .map(name)
        .collect();
    (!bad.is_empty()).then(|| {
        Violation::new(
            "hostPath volumes",
            format!(
                "{} {}",
                pluralize("volume", "volumes", bad.len()),
                join_quote(&bad)
            ),
        )
    })
}

/// Baseline: no container port is bound on the host.
fn host_ports(pod: Pod<'_>, _: u32) -> Option<Violation> {
    let mut bad = Vec::new();
    let mut ports: BTreeSet<String> = BTreeSet::new();
    for c in containers(pod.spec) {
        let used: Vec<String> = items(c, "ports")
            .iter()
            .filter_map(|p| p["hostPort"].as_i64())
            .filter(|port| *port != 0)
            .map(|port| port.to_string())
            .collect();
        if !used.is_empty() {
            bad.push(name(c));
            ports.extend(used);
        }
    }
    if bad.is_empty() {
        return None;
    }
    let listed: Vec<&str> = ports.iter().map(String::as_str).collect();
    Some(Violation::new(
        "hostPort",
        format!(
            "{} {} {} {}",
            containers_named(&bad),
            pluralize("uses", "use", bad.len()),
            pluralize("hostPort", "hostPorts", ports.len()),
            listed.join(", ")
        ),
    ))
}

/// Baseline: no privileged container.
fn privileged(pod: Pod<'_>, _: u32) -> Option<Violation> {
    let bad = containers_where(pod.spec, |c| c["securityContext"]["privileged"] == true);
    (!bad.is_empty()).then(|| {
        Violation::new(
            "privileged",
            format!(
                "{} must not set securityContext.privileged=true",
                containers_named(&bad)
            ),
        )
    })
}

/// Baseline: /proc is mounted with the runtime's default masks.
fn proc_mount(pod: Pod<'_>, _: u32) -> Option<Violation> {
    let mut bad = Vec::new();
    let mut kinds: BTreeSet<&str> = BTreeSet::new();
    for c in containers(pod.spec) {
        if let Some(kind) = c["securityContext"]["procMount"].as_str()
            && kind != "Default"
        {
            bad.push(name(c));
            kinds.insert(kind);
        }
    }
    (!bad.is_empty()).then(|| {
        Violation::new(
            "procMount",
            format!(
                "{} must not set securityContext.procMount to {}",
                containers_named(&bad),
                join_quote(&kinds)
            ),
        )
    })
}

/// Baseline: SELinux options set only a container type (`container_engine_t` from 1.31), and
/// no user or role.
fn se_linux_options(pod: Pod<'_>, minor: u32) -> Option<Violation> {
    let allowed = |kind: &str| {
        matches!(
            kind,
            "" | "container_t" | "container_init_t" | "container_kvm_t"
        ) || (minor >= 31 && kind == "container_engine_t")
    };
    let mut types: BTreeSet<String> = BTreeSet::new();
    let (mut user, mut role) = (false, false);
    let mut forbidden = |context: &Value| {
        let options = &context["seLinuxOptions"];
        if !options.is_object() {
            return false;
        }
        let kind = options["type"].as_str().unwrap_or_default();
        let bad_type = !allowed(kind);
        if bad_type {
            types.insert(kind.to_owned());
        }
        let set = |field: &str| !options[field].as_str().unwrap_or_default().is_empty();
        user |= set("user");
        role |= set("role");
        bad_type || set("user") || set("role")
    };
    let pod_bad = forbidden(&pod.spec["securityContext"]);
    let bad: Vec<&str> = containers(pod.spec)
        .filter(|c| forbidden(&c["securityContext"]))
        .map(name)
        .collect();
    let setters = setters(pod_bad, &bad);
    if setters.is_empty() {
        return None;
    }
    let mut what = Vec::new();
    if !types.is_empty() {
        what.push(format!(
            "{} {}",
            pluralize("type", "types", types.len()),
            join_quote(&types)
        ));
    }
    if user {
        what.push("user may not be set".to_owned());
    }
    if role {
        what.push("role may not be set".to_owned());
    }
    Some(Violation::new(
        "seLinuxOptions",
        format!(
            "{} set forbidden securityContext.seLinuxOptions: {}",
            setters.join(" and "),
            what.join("; ")
        ),
    ))
}

/// Baseline: a seccomp profile, if set, is the runtime's default or one on the node; before
/// 1.19, as the alpha annotations set it.
fn seccomp_baseline(pod: Pod<'_>, minor: u32) -> Option<Violation> {
    if minor < 19 {
        return seccomp_annotations(pod);
    }
    seccomp_profiles(pod.spec).forbidden()
}

/// The alpha annotations' form of [`seccomp_baseline`], for policy versions before 1.19.
fn seccomp_annotations(pod: Pod<'_>) -> Option<Violation> {
    const POD: &str = "seccomp.security.alpha.kubernetes.io/pod";
    const CONTAINER_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";
    let annotations = &pod.metadata["annotations"];
    let keys = std::iter::once(POD.to_owned())
        .chain(containers(pod.spec).map(|c| format!("{CONTAINER_PREFIX}{}", name(c))));
    let forbidden: BTreeSet<String> = keys
        .filter_map(|key| {
            let value = annotations[key.as_str()].as_str()?;
            let allowed = matches!(value, "runtime/default" | "docker/default")
                || value.starts_with("localhost/");
            (!allowed).then(|| format!("{key}={}", value.go_value()))
        })
        .collect();
    if forbidden.is_empty() {
        return None;
    }
    let listed: Vec<&str> = forbidden.iter().map(String::as_str).collect();
    Some(Violation::new(
        "seccompProfile",
        format!(
            "forbidden {} {}",
            pluralize("annotation", "annotations", listed.len()),
            listed.join(", ")
        ),
    ))
}

/// The seccomp profiles a pod and its containers set.
struct SeccompProfiles<'a> {
    /// The type of the pod's own profile, if it sets one.
    pod: Option<&'a str>,
    /// The containers that set a forbidden type.
    misset: Vec<&'a str>,
    /// The containers that set no profile.
    unset: Vec<&'a str>,
    /// The forbidden types set, by the pod or its containers.
    types: BTreeSet<&'a str>,
}

fn seccomp_profiles(spec: &Value) -> SeccompProfiles<'_> {
    let pod = seccomp_type(&spec["securityContext"]);
    let mut profiles = SeccompProfiles {
        pod,
        misset: Vec::new(),
        unset: Vec::new(),
        types: pod.filter(|t| !allowed_seccomp(t)).into_iter().collect(),
    };
    for c in containers(spec) {
        match seccomp_type(&c["securityContext"]) {
            None => profiles.unset.push(name(c)),
            Some(kind) if !allowed_seccomp(kind) => {
                profiles.misset.push(name(c));
                profiles.types.insert(kind);
            }
            Some(_) => {}
        }
    }
    profiles
}

impl SeccompProfiles<'_> {
    /// The violation of a pod or containers that set a forbidden type, the same at both levels.
    fn forbidden(&self) -> Option<Violation> {
        let pod_bad = self.pod.is_some_and(|t| !allowed_seccomp(t));
        let setters = setters(pod_bad, &self.misset);
        (!setters.is_empty()).then(|| {
            Violation::new(
                "seccompProfile",
                format!(
                    "{} must not set securityContext.seccompProfile.type to {}",
                    setters.join(" and "),
                    join_quote(&self.types)
                ),
            )
        })
    }
}

/// The type of the seccomp profile a security context sets, if it sets one.
fn seccomp_type(context: &Value) -> Option<&str> {
    let profile = &context["seccompProfile"];
    profile
        .is_object()
        .then_some(profile["type"].as_str().unwrap_or_default())
}

fn allowed_seccomp(kind: &str) -> bool {
    matches!(kind, "RuntimeDefault" | "Localhost")
}

/// The sysctls baseline allows, which only reach the pod's own namespaces, with the policy
/// version that first allowed each.
const SAFE_SYSCTLS: [(&str, u32); 12] = [
    ("kernel.shm_rmid_forced", 0),
    ("net.ipv4.ip_local_port_range", 0),
    ("net.ipv4.tcp_syncookies", 0),
    ("net.ipv4.ping_group_range", 0),
    ("net.ipv4.ip_unprivileged_port_start", 0),
    ("net.ipv4.ip_local_reserved_ports", 27),
    ("net.ipv4.tcp_keepalive_time", 29),
    ("net.ipv4.tcp_fin_timeout", 29),
    ("net.ipv4.tcp_keepalive_intvl", 29),
    ("net.ipv4.tcp_keepalive_probes", 29),
    ("net.ipv4.tcp_rmem", 32),
    ("net.ipv4.tcp_wmem", 32),
];

/// Baseline: only safe sysctls.
fn sysctls(pod: Pod<'_>, minor: u32) -> Option<Violation> {
    let safe = |name: &str| {
        SAFE_SYSCTLS
            .iter()
            .any(|(safe, since)| *safe == name && *since <= minor)
    };
    let forbidden: Vec<&str> = items(&pod.spec["securityContext"], "sysctls")
        .iter()
        .map(name)
        .filter(|&n| !safe(n))
        .collect();
    (!forbidden.is_empty()).then(|| Violation::new("forbidden sysctls", forbidden.join(", ")))
}

/// Baseline: no Windows host process, for the pod or a container.
fn host_process(pod: Pod<'_>, _: u32) -> Option<Violation> {
    let set = |context: &Value| context["windowsOptions"]["hostProcess"] == true;
    let bad = containers_where(pod.spec, |c| set(&c["securityContext"]));
    let setters = setters(set(&pod.spec["securityContext"]), &bad);
    (!setters.is_empty()).then(|| {
        Violation::new(
            "hostProcess",
            format!(
                "{} must not set securityContext.windowsOptions.hostProcess=true",
                setters.join(" and ")
            ),
        )
    })
}

/// Restricted: every container sets `allowPrivilegeEscalation: false` (Windows pods need not
/// from 1.25).
fn allow_privilege_escalation(pod: Pod<'_>, minor: u32) -> Option<Violation> {
    if minor >= 25 && windows(pod.spec) {
        return None;
    }
    let bad = containers_where(pod.spec, |c| {
        c["securityContext"]["allowPrivilegeEscalation"] != false
    });
    (!bad.is_empty()).then(|| {
        Violation::new(
            "allowPrivilegeEscalation != false",
            format!(
                "{} must set securityContext.allowPrivilegeEscalation=false",
                containers_named(&bad)
            ),
        )
    })
}

/// Restricted: every container drops `ALL` and adds nothing but `NET_BIND_SERVICE` (Windows
/// pods need not from 1.25).
fn capabilities_restricted(pod: Pod<'_>, minor: u32) -> Option<Violation> {
    if minor >= 25 && windows(pod.spec) {
        return None;
    }
    let (mut keeping, mut adding) = (Vec::new(), Vec::new());
    let mut added: BTreeSet<&str> = BTreeSet::new();
    for c in containers(pod.spec) {
        let capabilities = &c["securityContext"]["capabilities"];
        if !strings(&capabilities["drop"]).any(|cap| cap == "ALL") {
            keeping.push(name(c));
        }
        let extra: Vec<&str> = strings(&capabilities["add"])
            .filter(|cap| *cap != "NET_BIND_SERVICE")
            .collect();
        if !extra.is_empty() {
            adding.push(name(c));
            added.extend(extra);
        }
    }
    let mut details = Vec::new();
    if !keeping.is_empty() {
        details.push(format!(
            "{} must set securityContext.capabilities.drop=[\"ALL\"]",
            containers_named(&keeping)
        ));
    }
    if !adding.is_empty() {
        details.push(format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_named(&adding),
            join_quote(&added)
        ));
    }
    (!details.is_empty()).then(|| Violation::new("unrestricted capabilities", details.join("; ")))
}

/// The volume sources restricted allows.
const ALLOWED_VOLUMES: [&str; 9] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// The others, in the order upstream looks for them to name a volume's type.
const RESTRICTED_VOLUMES: [&str; 21] = [
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
];

/// Restricted: volumes only of the allowed sources (which hostPath is not).
fn restricted_volumes(pod: Pod<'_>, _: u32) -> Option<Violation> {
    let mut bad = Vec::new();
    let mut types: BTreeSet<&str> = BTreeSet::new();
    for volume in items(pod.spec, "volumes") {
        let has = |source: &&str| !volume[*source].is_null();
        if ALLOWED_VOLUMES.iter().any(has) {
            continue;
        }
        bad.push(name(volume));
        types.insert(
            RESTRICTED_VOLUMES
                .iter()
                .copied()
                .find(has)
                .unwrap_or("unknown"),
        );
    }
    (!bad.is_empty()).then(|| {
        Violation::new(
            "restricted volume types",
            format!(
                "{} {} {} {} {}",
                pluralize("volume", "volumes", bad.len()),
                join_quote(&bad),
                pluralize("uses", "use", bad.len()),
                pluralize(
                    "restricted volume type",
                    "restricted volume types",
                    types.len()
                ),
                join_quote(&types)
            ),
        )
    })
}

/// Restricted: the pod or every container sets `runAsNonRoot: true`, and none sets it false.
fn run_as_non_root(pod: Pod<'_>, _: u32) -> Option<Violation> {
    let pod_says = pod.spec["securityContext"]["runAsNonRoot"].as_bool();
    let says = |c: &Value| c["securityContext"]["runAsNonRoot"].as_bool();
    let explicit = containers_where(pod.spec, |c| says(c) == Some(false));
    let setters = setters(pod_says == Some(false), &explicit);
    if !setters.is_empty() {
        return Some(Violation::new(
            "runAsNonRoot != true",
            format!(
                "{} must not set securityContext.runAsNonRoot=false",
                setters.join(" and ")
            ),
        ));
    }
    if pod_says == Some(true) {
        return None;
    }
    let implicit = containers_where(pod.spec, |c| says(c).is_none());
    (!implicit.is_empty()).then(|| {
        Violation::new(
            "runAsNonRoot != true",
            format!(
                "pod or {} must set securityContext.runAsNonRoot=true",
                containers_named(&implicit)
            ),
        )
    })
}

/// Restricted: neither the pod nor a container sets `runAsUser: 0`.
fn run_as_user(pod: Pod<'_>, _: u32) -> Option<Violation> {
    let root = |context: &Value| context["runAsUser"].as_i64() == Some(0);
    let bad = containers_where(pod.spec, |c| root(&c["securityContext"]));
    let setters = setters(root(&pod.spec["securityContext"]), &bad);
    (!setters.is_empty()).then(|| {
        Violation::new(
            "runAsUser=0",
            format!("{} must not set runAsUser=0", setters.join(" and ")),
        )
    })
}

/// Restricted: the pod or every container sets a seccomp profile, the runtime's default or
/// one on the node (Windows pods need not from 1.25).
fn seccomp_restricted(pod: Pod<'_>, minor: u32) -> Option<Violation> {
    if minor >= 25 && windows(pod.spec) {
        return None;
    }
    let profiles = seccomp_profiles(pod.spec);
    let pod_set = profiles.pod.is_some_and(allowed_seccomp);
    profiles.forbidden().or_else(|| {
        (!pod_set && !profiles.unset.is_empty()).then(|| {
            Violation::new(
                "seccompProfile",
                format!(
                    "pod or {} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
                    containers_named(&profiles.unset)
                ),
            )
        })
    })
}

/// Every container of a pod, init, regular and ephemeral, as upstream's `visitContainers`.
fn containers(spec: &Value) -> impl Iterator<Item = &Value> {
    ["initContainers", "containers", "ephemeralContainers"]
        .into_iter()
        .flat_map(move |list| items(spec, list))
}

/// The names of the containers `bad` holds for.
fn containers_where<'a>(spec: &'a Value, bad: impl Fn(&Value) -> bool) -> Vec<&'a str> {
    containers(spec).filter(|&c| bad(c)).map(name).collect()
}

/// The list under `key`, empty when there is none.
pub fn items<'a>(object: &'a Value, key: &str) -> &'a [Value] {
    object[key]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn strings(list: &Value) -> impl Iterator<Item = &str> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

fn name(object: &Value) -> &str {
    object["name"].as_str().unwrap_or_default()
}

fn windows(spec: &Value) -> bool {
    spec["os"]["name"] == "windows"
}

/// Who set a forbidden value, as upstream names them: the pod, then its containers.
fn setters(pod: bool, containers: &[&str]) -> Vec<String> {
    let mut setters = Vec::new();
    if pod {
        setters.push("pod".to_owned());
    }
    if !containers.is_empty() {
        setters.push(containers_named(containers));
    }
    setters
}

/// `container "a"`, `containers "a", "b"`.
fn containers_named(names: &[&str]) -> String {
    format!(
        "{} {}",
        pluralize("container", "containers", names.len()),
        join_quote(names)
    )
}

/// Upstream's `joinQuote`: each in double quotes (as they are, unescaped), comma-separated.
fn join_quote<I>(items: I) -> String
where
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    let quoted: Vec<String> = items
        .into_iter()
        .map(|item| format!("\"{}\"", item.as_ref()))
        .collect();
    quoted.join(", ")
}

fn pluralize<'a>(singular: &'a str, plural: &'a str, count: usize) -> &'a str {
    if count == 1 { singular } else { plural }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::policy::Version;
    use super::*;

    const LATEST: u32 = 33;

    /// A pod of one container `c`, with `spec` merged into its spec and `container` into the
    /// container.
    fn pod_with(spec: Value, container: Value) -> Value {
        let mut c = json!({"name": "c", "image": "nginx"});
        merge(&mut c, container);
        let mut pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [c]}});
        merge(&mut pod["spec"], spec);
        pod
    }

    fn merge(into: &mut Value, from: Value) {
        if let (Some(into), Value::Object(from)) = (into.as_object_mut(), from) {
            into.extend(from);
        }
    }

    fn context(security_context: Value) -> Value {
        pod_with(json!({}), json!({"securityContext": security_context}))
    }

    fn run(check: CheckFn, pod: &Value) -> Option<(String, String)> {
        check(Pod::of(pod), LATEST).map(|v| (v.reason, v.detail))
    }

    fn refused(reason: &str, detail: &str) -> Option<(String, String)> {
        Some((reason.to_owned(), detail.to_owned()))
    }

    fn restricted_compliant() -> Value {
        pod_with(
            json!({"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}}}),
            json!({"securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}),
        )
    }

    fn at(level: Level, version: Version) -> LevelVersion {
        LevelVersion { level, version }
    }

    #[test]
    fn checks_are_ordered_as_upstream_orders_their_ids() {
        for level in [Level::Baseline, Level::Restricted] {
            let ids: Vec<&str> = CHECKS
                .iter()
                .filter(|c| c.level == level)
                .map(|c| c.id)
                .collect();
            let mut sorted = ids.clone();
            sorted.sort_unstable();
            assert_eq!(ids, sorted);
        }
    }

    #[test]
    fn a_plain_pod_violates_restricted_as_upstream_words_it() {
        let pod = pod_with(json!({}), json!({}));
        let violations = evaluate(at(Level::Restricted, Version::Latest), Pod::of(&pod));
        assert_eq!(
            detailed(&violations),
            "allowPrivilegeEscalation != false (container \"c\" must set securityContext.allowPrivilegeEscalation=false), \
             unrestricted capabilities (container \"c\" must set securityContext.capabilities.drop=[\"ALL\"]), \
             runAsNonRoot != true (pod or container \"c\" must set securityContext.runAsNonRoot=true), \
             seccompProfile (pod or container \"c\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")"
        );
        assert_eq!(
            reasons(&violations),
            "allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile"
        );
        assert!(evaluate(at(Level::Baseline, Version::Latest), Pod::of(&pod)).is_empty());
        let compliant = restricted_compliant();
        assert!(evaluate(at(Level::Restricted, Version::Latest), Pod::of(&compliant)).is_empty());
    }

    #[test]
    fn privileged_allows_anything_and_restricted_replaces_baseline_checks() {
        let pod = pod_with(
            json!({"hostNetwork": true, "volumes": [{"name": "h", "hostPath": {"path": "/"}}]}),
            json!({"securityContext": {"privileged": true, "capabilities": {"add": ["SYS_ADMIN"]}}}),
        );
        assert!(evaluate(at(Level::Privileged, Version::Latest), Pod::of(&pod)).is_empty());
        let baseline = evaluate(at(Level::Baseline, Version::Latest), Pod::of(&pod));
        assert_eq!(
            reasons(&baseline),
            "non-default capabilities, host namespaces, hostPath volumes, privileged"
        );
        let restricted = evaluate(at(Level::Restricted, Version::Latest), Pod::of(&pod));
        assert_eq!(
            reasons(&restricted),
            "host namespaces, privileged, allowPrivilegeEscalation != false, unrestricted capabilities, \
             restricted volume types, runAsNonRoot != true, seccompProfile"
        );
    }

    #[test]
    fn older_versions_run_the_checks_they_had() {
        let pod = pod_with(json!({}), json!({"securityContext": {"runAsUser": 0}}));
        let at_1_21 = evaluate(at(Level::Restricted, Version::V1(21)), Pod::of(&pod));
        assert_eq!(
            reasons(&at_1_21),
            "allowPrivilegeEscalation != false, runAsNonRoot != true, seccompProfile"
        );
        let at_1_23 = evaluate(at(Level::Restricted, Version::V1(23)), Pod::of(&pod));
        assert!(reasons(&at_1_23).contains("runAsUser=0"));
        let sysctl = pod_with(
            json!({"securityContext": {"sysctls": [{"name": "net.ipv4.tcp_rmem", "value": "4096 87380 6291456"}]}}),
            json!({}),
        );
        assert_eq!(
            super::sysctls(Pod::of(&sysctl), 31).map(|v| v.detail),
            Some("net.ipv4.tcp_rmem".to_owned())
        );
        assert_eq!(super::sysctls(Pod::of(&sysctl), 32), None);
    }

    #[test]
    fn app_armor_profile() {
        let pod =
            context(json!({"appArmorProfile": {"type": "Localhost", "localhostProfile": "p"}}));
        assert_eq!(run(super::app_armor_profile, &pod), None);
        let pod = context(json!({"appArmorProfile": {"type": "Unconfined"}}));
        assert_eq!(
            run(super::app_armor_profile, &pod),
            refused(
                "forbidden AppArmor profile",
                "container \"c\" must not set AppArmor profile type to \"Unconfined\""
            )
        );
        let mut pod = pod_with(
            json!({"securityContext": {"appArmorProfile": {"type": "Unconfined"}}}),
            json!({}),
        );
        pod["metadata"]["annotations"] =
            json!({"container.apparmor.security.beta.kubernetes.io/c": "unconfined"});
        assert_eq!(
            run(super::app_armor_profile, &pod),
            refused(
                "forbidden AppArmor profiles",
                "pod and annotation must not set AppArmor profile type to \"Unconfined\", \
                 \"container.apparmor.security.beta.kubernetes.io/c=\"unconfined\"\""
            )
        );
    }

    #[test]
    fn capabilities_baseline() {
        let pod = context(json!({"capabilities": {"add": ["NET_BIND_SERVICE", "CHOWN"]}}));
        assert_eq!(run(super::capabilities_baseline, &pod), None);
        let pod = context(json!({"capabilities": {"add": ["SYS_TIME", "NET_RAW", "CHOWN"]}}));
        assert_eq!(
            run(super::capabilities_baseline, &pod),
            refused(
                "non-default capabilities",
                "container \"c\" must not include \"NET_RAW\", \"SYS_TIME\" in securityContext.capabilities.add"
            )
        );
    }

    #[test]
    fn host_namespaces() {
        let pod = pod_with(json!({"hostNetwork": false}), json!({}));
        assert_eq!(run(super::host_namespaces, &pod), None);
        let pod = pod_with(json!({"hostNetwork": true, "hostIPC": true}), json!({}));
        assert_eq!(
            run(super::host_namespaces, &pod),
            refused("host namespaces", "hostNetwork=true, hostIPC=true")
        );
    }

    #[test]
    fn host_path_volumes() {
        let pod = pod_with(
            json!({"volumes": [{"name": "e", "emptyDir": {}}]}),
            json!({}),
        );
        assert_eq!(run(super::host_path_volumes, &pod), None);
        let pod = pod_with(
            json!({"volumes": [{"name": "a", "hostPath": {"path": "/a"}}, {"name": "b", "hostPath": {"path": "/b"}}]}),
            json!({}),
        );
        assert_eq!(
            run(super::host_path_volumes, &pod),
            refused("hostPath volumes", "volumes \"a\", \"b\"")
        );
    }

    #[test]
    fn host_ports() {
        let pod = pod_with(json!({}), json!({"ports": [{"containerPort": 80}]}));
        assert_eq!(run(super::host_ports, &pod), None);
        let pod = pod_with(
            json!({}),
            json!({"ports": [{"containerPort": 80, "hostPort": 8080}, {"containerPort": 443, "hostPort": 443}]}),
        );
        assert_eq!(
            run(super::host_ports, &pod),
            refused("hostPort", "container \"c\" uses hostPorts 443, 8080")
        );
    }

    #[test]
    fn privileged() {
        assert_eq!(
            run(super::privileged, &context(json!({"privileged": false}))),
            None
        );
        assert_eq!(
            run(super::privileged, &context(json!({"privileged": true}))),
            refused(
                "privileged",
                "container \"c\" must not set securityContext.privileged=true"
            )
        );
    }

    #[test]
    fn proc_mount() {
        assert_eq!(
            run(super::proc_mount, &context(json!({"procMount": "Default"}))),
            None
        );
        assert_eq!(
            run(
                super::proc_mount,
                &context(json!({"procMount": "Unmasked"}))
            ),
            refused(
                "procMount",
                "container \"c\" must not set securityContext.procMount to \"Unmasked\""
            )
        );
    }

    #[test]
    fn se_linux_options() {
        let pod = context(json!({"seLinuxOptions": {"type": "container_engine_t", "level": "s0"}}));
        assert_eq!(run(super::se_linux_options, &pod), None);
        assert!(super::se_linux_options(Pod::of(&pod), 30).is_some());
        let pod = pod_with(
            json!({"securityContext": {"seLinuxOptions": {"user": "root"}}}),
            json!({"securityContext": {"seLinuxOptions": {"type": "spc_t", "role": "r"}}}),
        );
        assert_eq!(
            run(super::se_linux_options, &pod),
            refused(
                "seLinuxOptions",
                "pod and container \"c\" set forbidden securityContext.seLinuxOptions: \
                 type \"spc_t\"; user may not be set; role may not be set"
            )
        );
    }

    #[test]
    fn seccomp_baseline() {
        let pod = pod_with(
            json!({"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}}),
            json!({}),
        );
        assert_eq!(run(super::seccomp_baseline, &pod), None);
        let pod = context(json!({"seccompProfile": {"type": "Unconfined"}}));
        assert_eq!(
            run(super::seccomp_baseline, &pod),
            refused(
                "seccompProfile",
                "container \"c\" must not set securityContext.seccompProfile.type to \"Unconfined\""
            )
        );
        let mut pod = pod_with(json!({}), json!({}));
        pod["metadata"]["annotations"] =
            json!({"seccomp.security.alpha.kubernetes.io/pod": "unconfined"});
        assert_eq!(
            super::seccomp_baseline(Pod::of(&pod), 18).map(|v| v.detail),
            Some(
                "forbidden annotation seccomp.security.alpha.kubernetes.io/pod=\"unconfined\""
                    .to_owned()
            )
        );
    }

    #[test]
    fn sysctls() {
        let pod = pod_with(
            json!({"securityContext": {"sysctls": [{"name": "net.ipv4.ip_local_port_range", "value": "1024 65535"}]}}),
            json!({}),
        );
        assert_eq!(run(super::sysctls, &pod), None);
        let pod = pod_with(
            json!({"securityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "1"}, {"name": "net.core.somaxconn", "value": "1"}]}}),
            json!({}),
        );
        assert_eq!(
            run(super::sysctls, &pod),
            refused("forbidden sysctls", "kernel.msgmax, net.core.somaxconn")
        );
    }

    #[test]
    fn host_process() {
        let pod = context(json!({"windowsOptions": {"hostProcess": false}}));
        assert_eq!(run(super::host_process, &pod), None);
        let pod = pod_with(
            json!({"securityContext": {"windowsOptions": {"hostProcess": true}}}),
            json!({"securityContext": {"windowsOptions": {"hostProcess": true}}}),
        );
        assert_eq!(
            run(super::host_process, &pod),
            refused(
                "hostProcess",
                "pod and container \"c\" must not set securityContext.windowsOptions.hostProcess=true"
            )
        );
    }

    #[test]
    fn allow_privilege_escalation() {
        let pod = context(json!({"allowPrivilegeEscalation": false}));
        assert_eq!(run(super::allow_privilege_escalation, &pod), None);
        let pod = context(json!({"allowPrivilegeEscalation": true}));
        assert_eq!(
            run(super::allow_privilege_escalation, &pod),
            refused(
                "allowPrivilegeEscalation != false",
                "container \"c\" must set securityContext.allowPrivilegeEscalation=false"
            )
        );
        let windows = pod_with(json!({"os": {"name": "windows"}}), json!({}));
        assert_eq!(run(super::allow_privilege_escalation, &windows), None);
        assert!(super::allow_privilege_escalation(Pod::of(&windows), 24).is_some());
    }

    #[test]
    fn capabilities_restricted() {
        let pod = context(json!({"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}));
        assert_eq!(run(super::capabilities_restricted, &pod), None);
        let pod = context(json!({"capabilities": {"drop": ["NET_RAW"], "add": ["CHOWN"]}}));
        assert_eq!(
            run(super::capabilities_restricted, &pod),
            refused(
                "unrestricted capabilities",
                "container \"c\" must set securityContext.capabilities.drop=[\"ALL\"]; \
                 container \"c\" must not include \"CHOWN\" in securityContext.capabilities.add"
            )
        );
    }

    #[test]
    fn restricted_volumes() {
        let pod = pod_with(
            json!({"volumes": [{"name": "s", "secret": {"secretName": "s"}}, {"name": "p", "projected": {"sources": []}}]}),
            json!({}),
        );
        assert_eq!(run(super::restricted_volumes, &pod), None);
        let pod = pod_with(
            json!({"volumes": [
                {"name": "h", "hostPath": {"path": "/"}},
                {"name": "n", "nfs": {"server": "s", "path": "/"}},
                {"name": "e", "emptyDir": {}},
            ]}),
            json!({}),
        );
        assert_eq!(
            run(super::restricted_volumes, &pod),
            refused(
                "restricted volume types",
                "volumes \"h\", \"n\" use restricted volume types \"hostPath\", \"nfs\""
            )
        );
    }

    #[test]
    fn run_as_non_root() {
        let pod = pod_with(
            json!({"securityContext": {"runAsNonRoot": true}}),
            json!({}),
        );
        assert_eq!(run(super::run_as_non_root, &pod), None);
        let pod = pod_with(
            json!({"securityContext": {"runAsNonRoot": true}}),
            json!({"securityContext": {"runAsNonRoot": false}}),
        );
        assert_eq!(
            run(super::run_as_non_root, &pod),
            refused(
                "runAsNonRoot != true",
                "container \"c\" must not set securityContext.runAsNonRoot=false"
            )
        );
        assert_eq!(
            run(super::run_as_non_root, &pod_with(json!({}), json!({}))),
            refused(
                "runAsNonRoot != true",
                "pod or container \"c\" must set securityContext.runAsNonRoot=true"
            )
        );
    }

    #[test]
    fn run_as_user() {
        assert_eq!(
            run(super::run_as_user, &context(json!({"runAsUser": 1000}))),
            None
        );
        let pod = pod_with(
            json!({"securityContext": {"runAsUser": 0}}),
            json!({"securityContext": {"runAsUser": 0}}),
        );
        assert_eq!(
            run(super::run_as_user, &pod),
            refused(
                "runAsUser=0",
                "pod and container \"c\" must not set runAsUser=0"
            )
        );
    }

    #[test]
    fn seccomp_restricted() {
        let pod =
            context(json!({"seccompProfile": {"type": "Localhost", "localhostProfile": "p.json"}}));
        assert_eq!(run(super::seccomp_restricted, &pod), None);
        let pod = pod_with(
            json!({"securityContext": {"seccompProfile": {"type": "Unconfined"}}}),
            json!({}),
        );
        assert_eq!(
            run(super::seccomp_restricted, &pod),
            refused(
                "seccompProfile",
                "pod must not set securityContext.seccompProfile.type to \"Unconfined\""
            )
        );
        assert_eq!(
            run(super::seccomp_restricted, &pod_with(json!({}), json!({}))),
            refused(
                "seccompProfile",
                "pod or container \"c\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\""
            )
        );
    }
}
