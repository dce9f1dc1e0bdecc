//! Defaults of the kinds that carry pod templates (Deployments, ReplicaSets, StatefulSets,
//! DaemonSets, Jobs, CronJobs, ReplicationControllers, PodTemplates), their templates included.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{
    DaemonSet, Deployment, ReplicaSet, RollingUpdateDeployment, StatefulSet,
};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{PodTemplate, PodTemplateSpec, ReplicationController};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::pod::pod_spec;
use super::{set_if_none, set_if_unset};

const CONTROLLER_UID_LABEL: &str = "batch.kubernetes.io/controller-uid";
const JOB_NAME_LABEL: &str = "batch.kubernetes.io/job-name";
const LEGACY_CONTROLLER_UID_LABEL: &str = "controller-uid";
const LEGACY_JOB_NAME_LABEL: &str = "job-name";

fn template(template: &mut PodTemplateSpec) {
    pod_spec(template.spec.get_or_insert_with(Default::default));
}

/// One replica, a rolling update of 25% surge and 25% unavailability, ten old ReplicaSets kept
/// and ten minutes to make progress.
pub fn deployment(deployment: &mut Deployment) {
    let spec = deployment.spec.get_or_insert_with(Default::default);
    set_if_none(&mut spec.replicas, 1);
    let strategy = spec.strategy.get_or_insert_with(Default::default);
    set_if_unset(&mut strategy.type_, "RollingUpdate");
    if strategy.type_.as_deref() == Some("RollingUpdate") {
        let rolling: &mut RollingUpdateDeployment =
            strategy.rolling_update.get_or_insert_with(Default::default);
        set_if_none(
            &mut rolling.max_unavailable,
            IntOrString::String("25%".into()),
        );
        set_if_none(&mut rolling.max_surge, IntOrString::String("25%".into()));
    }
    set_if_none(&mut spec.revision_history_limit, 10);
    set_if_none(&mut spec.progress_deadline_seconds, 600);
    template(&mut spec.template);
}

pub fn replica_set(replica_set: &mut ReplicaSet) {
    let spec = replica_set.spec.get_or_insert_with(Default::default);
    set_if_none(&mut spec.replicas, 1);
    template(spec.template.get_or_insert_with(Default::default));
}

/// One completion at a time, six retries, non-indexed, running, with pods replaced once they
/// are gone (or failed, under a pod failure policy); an unlabelled Job takes its template's
/// labels.
pub fn job(job: &mut Job) {
    let spec = job.spec.get_or_insert_with(Default::default);
    if spec.completions.is_none() && spec.parallelism.is_none() {
        spec.completions = Some(1);
    }
    set_if_none(&mut spec.parallelism, 1);
    let backoff_limit = if spec.backoff_limit_per_index.is_some() {
        i32::MAX
    } else {
        6
    };
    set_if_none(&mut spec.backoff_limit, backoff_limit);
    set_if_none(&mut spec.completion_mode, "NonIndexed".to_string());
    set_if_none(&mut spec.suspend, false);
    let replacement = if spec.pod_failure_policy.is_some() {
        "Failed"
    } else {
        "TerminatingOrFailed"
    };
    set_if_none(&mut spec.pod_replacement_policy, replacement.to_string());
    set_if_none(&mut spec.manual_selector, false);
    for rule in spec
        .pod_failure_policy
        .iter_mut()
        .flat_map(|p| p.rules.iter_mut())
    {
        for pattern in rule
            .on_pod_conditions
            .iter_mut()
            .flatten()
            .filter(|p| p.status.is_empty())
        {
            pattern.status = "True".to_string();
        }
    }
    template(&mut spec.template);
    labels_from_template(job);
}

fn labels_from_template(job: &mut Job) {
    let template_labels = job
        .spec
        .as_ref()
        .and_then(|s| s.template.metadata.as_ref())
        .and_then(|m| m.labels.clone());
    if let Some(labels) = template_labels
        && job.metadata.labels.as_ref().is_none_or(BTreeMap::is_empty)
    {
        job.metadata.labels = Some(labels);
    }
}

/// On create, once the Job has its UID: unless the selector is manual, labels the template
/// with the Job's name and UID and selects on the UID, as upstream's Job strategy does. The
/// Job's own labels are then defaulted again, as upstream does whenever it reads a Job back.
pub fn job_selector(job: &mut Job) {
    let name = job.metadata.name.clone().unwrap_or_default();
    let uid = job.metadata.uid.clone().unwrap_or_default();
    let Some(spec) = job
        .spec
        .as_mut()
        .filter(|s| s.manual_selector != Some(true))
    else {
        return;
    };
    let labels = spec
        .template
        .metadata
        .get_or_insert_with(Default::default)
        .labels
        .get_or_insert_with(Default::default);
    for (key, value) in [
        (LEGACY_JOB_NAME_LABEL, &name),
        (JOB_NAME_LABEL, &name),
        (LEGACY_CONTROLLER_UID_LABEL, &uid),
        (CONTROLLER_UID_LABEL, &uid),
    ] {
        labels
            .entry(key.to_string())
            .or_insert_with(|| value.clone());
    }
    let selector = spec.selector.get_or_insert_with(Default::default);
    selector
        .match_labels
        .get_or_insert_with(Default::default)
        .entry(CONTROLLER_UID_LABEL.to_string())
        .or_insert(uid);
    labels_from_template(job);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The template spec every defaulted template gains.
    fn template_spec(restart_policy: &str) -> serde_json::Value {
        json!({
            "containers": [{
                "image": "nginx",
                "imagePullPolicy": "Always",
                "name": "nginx",
                "resources": {},
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File"
            }],
            "dnsPolicy": "ClusterFirst",
            "restartPolicy": restart_policy,
            "schedulerName": "default-scheduler",
            "securityContext": {},
            "terminationGracePeriodSeconds": 30
        })
    }

    #[test]
    fn deployment_from_kubectl_create() {
        let mut d: Deployment = serde_json::from_value(json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "nginx", "image": "nginx", "resources": {}}]}
                },
                "strategy": {}
            },
            "status": {}
        }))
        .expect("deployment");
        deployment(&mut d);
        assert_eq!(
            serde_json::to_value(&d).expect("json"),
            json!({
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "web", "labels": {"app": "web"}},
                "spec": {
                    "progressDeadlineSeconds": 600,
                    "replicas": 3,
                    "revisionHistoryLimit": 10,
                    "selector": {"matchLabels": {"app": "web"}},
                    "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}, "type": "RollingUpdate"},
                    "template": {"metadata": {"labels": {"app": "web"}}, "spec": template_spec("Always")}
                },
                "status": {}
            })
        );
    }

    #[test]
    fn recreate_deployments_and_replica_sets() {
        let mut d: Deployment = serde_json::from_value(
            json!({"spec": {"selector": {}, "template": {}, "strategy": {"type": "Recreate"}}}),
        )
        .expect("deployment");
        deployment(&mut d);
        let out = serde_json::to_value(&d).expect("json");
        assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
        assert_eq!(out["spec"]["replicas"], 1);
        let mut rs: ReplicaSet =
            serde_json::from_value(json!({"spec": {"selector": {}}})).expect("replica set");
        replica_set(&mut rs);
        let out = serde_json::to_value(&rs).expect("json");
        assert_eq!(out["spec"]["replicas"], 1);
        assert_eq!(out["spec"]["template"]["spec"]["restartPolicy"], "Always");
    }

    #[test]
    fn job_from_kubectl_create() {
        let mut j: Job = serde_json::from_value(json!({
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "pi", "namespace": "default", "uid": "u-1"},
            "spec": {"template": {"metadata": {}, "spec": {"containers": [{"name": "nginx", "image": "nginx", "resources": {}}], "restartPolicy": "Never"}}}
        }))
        .expect("job");
        job(&mut j);
        job_selector(&mut j);
        let generated = json!({
            "batch.kubernetes.io/controller-uid": "u-1",
            "batch.kubernetes.io/job-name": "pi",
            "controller-uid": "u-1",
            "job-name": "pi"
        });
        assert_eq!(
            serde_json::to_value(&j).expect("json"),
            json!({
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": {"name": "pi", "namespace": "default", "uid": "u-1", "labels": generated},
                "spec": {
                    "backoffLimit": 6,
                    "completionMode": "NonIndexed",
                    "completions": 1,
                    "manualSelector": false,
                    "parallelism": 1,
                    "podReplacementPolicy": "TerminatingOrFailed",
                    "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u-1"}},
                    "suspend": false,
                    "template": {"metadata": {"labels": generated}, "spec": template_spec("Never")}
                }
            })
        );
    }

    #[test]
    fn manual_selectors_are_left_alone() {
        let mut j: Job = serde_json::from_value(json!({
            "metadata": {"name": "pi", "uid": "u-1"},
            "spec": {"manualSelector": true, "parallelism": 2, "template": {}}
        }))
        .expect("job");
        job(&mut j);
        job_selector(&mut j);
        let spec = j.spec.as_ref().expect("spec");
        assert_eq!((spec.completions, spec.parallelism), (None, Some(2)));
        assert!(spec.selector.is_none());
    }
}

/// One replica, pods made in order, rolling updates from partition 0, claims kept when the set
/// is deleted or scaled down, ten revisions kept; each claim template reads as a stored claim
/// does (its apiVersion and kind, Filesystem mode, phase Pending), as upstream stores them.
pub fn stateful_set(set: &mut StatefulSet) {
    let spec = set.spec.get_or_insert_with(Default::default);
    set_if_none(&mut spec.replicas, 1);
    set_if_unset(&mut spec.pod_management_policy, "OrderedReady");
    let strategy = spec.update_strategy.get_or_insert_with(Default::default);
    set_if_unset(&mut strategy.type_, "RollingUpdate");
    if strategy.type_.as_deref() == Some("RollingUpdate") {
        let rolling = strategy.rolling_update.get_or_insert_with(Default::default);
        set_if_none(&mut rolling.partition, 0);
    }
    let retention = spec
        .persistent_volume_claim_retention_policy
        .get_or_insert_with(Default::default);
    set_if_unset(&mut retention.when_deleted, "Retain");
    set_if_unset(&mut retention.when_scaled, "Retain");
    set_if_none(&mut spec.revision_history_limit, 10);
    for claim in spec.volume_claim_templates.iter_mut().flatten() {
        super::storage::claim_template(claim);
    }
    template(&mut spec.template);
}

/// Rolling updates one node at a time with no surge; ten revisions kept.
pub fn daemon_set(set: &mut DaemonSet) {
    let spec = set.spec.get_or_insert_with(Default::default);
    let strategy = spec.update_strategy.get_or_insert_with(Default::default);
    set_if_unset(&mut strategy.type_, "RollingUpdate");
    if strategy.type_.as_deref() == Some("RollingUpdate") {
        let rolling = strategy.rolling_update.get_or_insert_with(Default::default);
        set_if_none(&mut rolling.max_unavailable, IntOrString::Int(1));
        set_if_none(&mut rolling.max_surge, IntOrString::Int(0));
    }
    set_if_none(&mut spec.revision_history_limit, 10);
    template(&mut spec.template);
}

/// Concurrent runs allowed, not suspended, three successful and one failed Job kept. The Job
/// template's own spec is left as written (upstream defaults it when the Job is made), its pod
/// template is defaulted.
pub fn cron_job(cron_job: &mut CronJob) {
    let spec = cron_job.spec.get_or_insert_with(Default::default);
    set_if_unset(&mut spec.concurrency_policy, "Allow");
    set_if_none(&mut spec.suspend, false);
    set_if_none(&mut spec.successful_jobs_history_limit, 3);
    set_if_none(&mut spec.failed_jobs_history_limit, 1);
    if let Some(job) = spec.job_template.spec.as_mut() {
        template(&mut job.template);
    }
}

/// One replica; an empty selector and empty labels take the template's labels.
pub fn replication_controller(controller: &mut ReplicationController) {
    let template_labels = controller
        .spec
        .as_ref()
        .and_then(|s| s.template.as_ref())
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .filter(|l| !l.is_empty());
    let spec = controller.spec.get_or_insert_with(Default::default);
    set_if_none(&mut spec.replicas, 1);
    if let Some(labels) = template_labels {
        if spec.selector.as_ref().is_none_or(BTreeMap::is_empty) {
            spec.selector = Some(labels.clone());
        }
        if controller
            .metadata
            .labels
            .as_ref()
            .is_none_or(BTreeMap::is_empty)
        {
            controller.metadata.labels = Some(labels);
        }
    }
    if let Some(template) = controller.spec.as_mut().and_then(|s| s.template.as_mut()) {
        self::template(template);
    }
}

/// A PodTemplate's pod spec gets a pod's defaults.
pub fn pod_template(pod_template: &mut PodTemplate) {
    if let Some(template) = pod_template.template.as_mut() {
        self::template(template);
    }
}
