//! HorizontalPodAutoscaler defaults (autoscaling/v2): at least one replica, and scaling on 80 %
//! CPU utilization when no metric is given. Scaling behavior is defaulted only where the
//! autoscaler gives one, as upstream does.

use k8s_openapi::api::autoscaling::v2::{
    HPAScalingPolicy, HPAScalingRules, HorizontalPodAutoscaler, MetricSpec, MetricTarget,
    ResourceMetricSource,
};

use super::{set_if_none, set_if_unset};

pub fn horizontal_pod_autoscaler(autoscaler: &mut HorizontalPodAutoscaler) {
    let Some(spec) = autoscaler.spec.as_mut() else {
        return;
    };
    set_if_none(&mut spec.min_replicas, 1);
    if spec.metrics.as_ref().is_none_or(Vec::is_empty) {
        spec.metrics = Some(vec![MetricSpec {
            type_: "Resource".to_string(),
            resource: Some(ResourceMetricSource {
                name: "cpu".to_string(),
                target: MetricTarget {
                    type_: "Utilization".to_string(),
                    average_utilization: Some(80),
                    ..Default::default()
                },
            }),
            ..Default::default()
        }]);
    }
    if let Some(behavior) = spec.behavior.as_mut() {
        // Up: add four pods or double, whichever is more, every 15 s, at once; down: up to
        // all pods every 15 s after five minutes of lower recommendations.
        let up = behavior.scale_up.get_or_insert_with(Default::default);
        scaling_rules(up, 0, &[("Pods", 4, 15), ("Percent", 100, 15)]);
        let down = behavior.scale_down.get_or_insert_with(Default::default);
        scaling_rules(down, 300, &[("Percent", 100, 15)]);
    }
}

fn scaling_rules(rules: &mut HPAScalingRules, window: i32, policies: &[(&str, i32, i32)]) {
    set_if_none(&mut rules.stabilization_window_seconds, window);
    set_if_unset(&mut rules.select_policy, "Max");
    if rules.policies.is_none() {
        rules.policies = Some(
            policies
                .iter()
                .map(|&(type_, value, period_seconds)| HPAScalingPolicy {
                    type_: type_.to_string(),
                    value,
                    period_seconds,
                })
                .collect(),
        );
    }
}
