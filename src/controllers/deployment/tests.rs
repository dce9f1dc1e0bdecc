//! The rollout arithmetic, stepped through as if pods became available at once.

use super::*;
use serde_json::json;

fn deployment(replicas: i32, strategy: serde_json::Value) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": "web", "namespace": "default", "uid": "d-1", "generation": 2},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": strategy,
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx:2"}]}},
        },
    }))
    .unwrap()
}

fn replica_set(name: &str, replicas: i32, available: i32) -> ReplicaSet {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {}},
        "status": {"replicas": replicas, "readyReplicas": available, "availableReplicas": available},
    }))
    .unwrap()
}

/// Runs the rollout to the end, pods becoming available as soon as they exist, and returns
/// the (new, old) replica counts after each step.
fn roll(deployment: &Deployment, old: i32) -> Vec<(i32, i32)> {
    let mut new = replica_set("new", 0, 0);
    let mut old_rs = replica_set("old", old, old);
    let mut steps = Vec::new();
    for _ in 0..50 {
        let plan = plan(deployment, &new, &[&old_rs]);
        if plan.scale.is_empty() {
            break;
        }
        for (name, replicas) in plan.scale {
            let target = if name == "new" { &mut new } else { &mut old_rs };
            *target = replica_set(&name, replicas, replicas);
        }
        steps.push((spec_replicas(&new), spec_replicas(&old_rs)));
    }
    steps
}

#[test]
fn rolling_updates_stay_within_surge_and_unavailability() {
    let d = deployment(
        4,
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1}}),
    );
    let steps = roll(&d, 4);
    assert_eq!(steps.last(), Some(&(4, 0)));
    for (new, old) in &steps {
        assert!(
            new + old <= 5,
            "more than maxSurge above desired: {steps:?}"
        );
        assert!(
            new + old >= 3,
            "fewer than desired - maxUnavailable: {steps:?}"
        );
    }
}

#[test]
fn default_percentages_resolve_as_upstream() {
    let d = deployment(3, json!({"type": "RollingUpdate"}));
    assert_eq!(surge_and_unavailable(&d), (1, 0));
    let steps = roll(&d, 3);
    assert_eq!(steps.first(), Some(&(1, 3)));
    assert!(
        steps.iter().all(|(n, o)| n + o <= 4 && n + o >= 3),
        "{steps:?}"
    );
    let zero = deployment(
        3,
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}}),
    );
    assert_eq!(surge_and_unavailable(&zero), (0, 1));
}

#[test]
fn recreate_empties_the_old_before_filling_the_new() {
    let d = deployment(2, json!({"type": "Recreate"}));
    let new = replica_set("new", 0, 0);
    let old = replica_set("old", 2, 2);
    assert_eq!(
        plan(&d, &new, &[&old]).scale,
        BTreeMap::from([("old".to_string(), 0)])
    );
    let gone = replica_set("old", 0, 0);
    assert_eq!(
        plan(&d, &new, &[&gone]).scale,
        BTreeMap::from([("new".to_string(), 2)])
    );
}

#[test]
fn template_hashes_are_stable_and_use_upstreams_alphabet() {
    let d = deployment(1, json!({}));
    let template = &d.spec.as_ref().unwrap().template;
    let hash = template_hash(template, 0);
    assert_eq!(hash, template_hash(template, 0));
    assert_ne!(hash, template_hash(template, 1));
    assert!(
        hash.bytes()
            .all(|b| b"bcdfghjklmnpqrstvwxz2456789".contains(&b))
    );
}

#[test]
fn status_reports_progress_completion_and_a_missed_deadline() {
    let mut d = deployment(2, json!({"type": "RollingUpdate"}));
    let now = jiff::Timestamp::now();
    let rolling = vec![Arc::new(replica_set("web-new", 2, 1))];
    let status = compute_status(&d, &rolling, Some("web-new"), now);
    assert_eq!(status.observed_generation, Some(2));
    assert_eq!(
        condition(&status, "Progressing").unwrap().reason.as_deref(),
        Some("NewReplicaSetCreated")
    );
    assert_eq!(condition(&status, "Available").unwrap().status, "False");

    d.status = Some(status);
    let later = now + jiff::SignedDuration::from_secs(601);
    let stuck = compute_status(&d, &rolling, Some("web-new"), later);
    let progressing = condition(&stuck, "Progressing").unwrap();
    assert_eq!(
        (progressing.status.as_str(), progressing.reason.as_deref()),
        ("False", Some("ProgressDeadlineExceeded"))
    );

    let done = vec![Arc::new(replica_set("web-new", 2, 2))];
    let complete = compute_status(&d, &done, Some("web-new"), later);
    assert_eq!(
        condition(&complete, "Progressing")
            .unwrap()
            .reason
            .as_deref(),
        Some("NewReplicaSetAvailable")
    );
    assert_eq!(condition(&complete, "Available").unwrap().status, "True");
}

#[test]
fn a_rollout_whose_new_pods_never_become_available_waits_at_the_surge() {
    let d = deployment(3, json!({"type": "RollingUpdate"}));
    let new = replica_set("new", 1, 0);
    let old = replica_set("old", 3, 3);
    assert!(
        plan(&d, &new, &[&old]).scale.is_empty(),
        "nothing more may change until a new pod is available"
    );
}

#[test]
fn a_lagging_status_lets_neither_availability_drop_nor_pods_exceed_the_surge() {
    // The old ReplicaSet was just scaled 3 → 2 and its status still says 3 pods, available.
    let d = deployment(3, json!({"type": "RollingUpdate"}));
    let new = replica_set("new", 1, 1);
    let mut old = replica_set("old", 2, 3);
    old.status.as_mut().unwrap().replicas = 3;
    let step = plan(&d, &new, &[&old]);
    assert!(step.scale.is_empty(), "{step:?}");

    // Its controller has removed the pod: the surge has room again.
    old.status.as_mut().unwrap().replicas = 2;
    old.status.as_mut().unwrap().available_replicas = Some(2);
    let step = plan(&d, &new, &[&old]);
    assert_eq!(step.scale.get("old"), None, "{step:?}");
    assert_eq!(step.scale.get("new"), Some(&2));
}
