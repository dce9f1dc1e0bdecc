//! autoscaling/v1 HorizontalPodAutoscalers as views of the stored autoscaling/v2 ones, as
//! upstream converts them: v1 knows one metric (CPU utilization); whatever else v2 holds
//! (other metrics, their current values, conditions, behavior) rides in upstream's
//! annotations, so a v1 client reads, changes and writes back an autoscaler without losing it.

use std::collections::BTreeMap;

use k8s_openapi::api::autoscaling::{v1, v2};
use serde::Serialize;
use serde::de::DeserializeOwned;

const METRICS: &str = "autoscaling.alpha.kubernetes.io/metrics";
const CURRENT_METRICS: &str = "autoscaling.alpha.kubernetes.io/current-metrics";
const CONDITIONS: &str = "autoscaling.alpha.kubernetes.io/conditions";
const BEHAVIOR: &str = "autoscaling.alpha.kubernetes.io/behavior";

/// The v1 view of a stored autoscaler.
pub fn to_v1(stored: v2::HorizontalPodAutoscaler) -> v1::HorizontalPodAutoscaler {
    let mut metadata = stored.metadata;
    let mut annotations = metadata.annotations.take().unwrap_or_default();
    let spec = stored.spec.map(|spec| {
        let (cpu, others): (Vec<_>, Vec<_>) = spec
            .metrics
            .unwrap_or_default()
            .into_iter()
            .partition(|m| target_cpu(m).is_some());
        annotate(&mut annotations, METRICS, &others);
        if let Some(behavior) = &spec.behavior {
            annotate(&mut annotations, BEHAVIOR, behavior);
        }
        let reference = spec.scale_target_ref;
        v1::HorizontalPodAutoscalerSpec {
            max_replicas: spec.max_replicas,
            min_replicas: spec.min_replicas,
            scale_target_ref: v1::CrossVersionObjectReference {
                api_version: reference.api_version,
                kind: reference.kind,
                name: reference.name,
            },
            target_cpu_utilization_percentage: cpu.first().and_then(target_cpu),
        }
    });
    let status = stored.status.map(|status| {
        let (cpu, others): (Vec<_>, Vec<_>) = status
            .current_metrics
            .unwrap_or_default()
            .into_iter()
            .partition(|m| current_cpu(m).is_some());
        annotate(&mut annotations, CURRENT_METRICS, &others);
        annotate(
            &mut annotations,
            CONDITIONS,
            &status.conditions.unwrap_or_default(),
        );
        v1::HorizontalPodAutoscalerStatus {
            current_cpu_utilization_percentage: cpu.first().and_then(current_cpu),
            current_replicas: status.current_replicas.unwrap_or_default(),
            desired_replicas: status.desired_replicas,
            last_scale_time: status.last_scale_time,
            observed_generation: status.observed_generation,
        }
    });
    metadata.annotations = (!annotations.is_empty()).then_some(annotations);
    v1::HorizontalPodAutoscaler {
        metadata,
        spec,
        status,
    }
}

/// The stored form of a v1 autoscaler: its CPU target and what the annotations carry.
pub fn to_v2(view: v1::HorizontalPodAutoscaler) -> v2::HorizontalPodAutoscaler {
    let mut metadata = view.metadata;
    let mut annotations = metadata.annotations.take().unwrap_or_default();
    let spec = view.spec.map(|spec| {
        let mut metrics: Vec<v2::MetricSpec> = spec
            .target_cpu_utilization_percentage
            .map(|percent| v2::MetricSpec {
                type_: "Resource".into(),
                resource: Some(v2::ResourceMetricSource {
                    name: "cpu".into(),
                    target: v2::MetricTarget {
                        type_: "Utilization".into(),
                        average_utilization: Some(percent),
                        ..Default::default()
                    },
                }),
                ..Default::default()
            })
            .into_iter()
            .collect();
        metrics.extend(
            unannotate::<Vec<v2::MetricSpec>>(&mut annotations, METRICS).unwrap_or_default(),
        );
        let reference = spec.scale_target_ref;
        v2::HorizontalPodAutoscalerSpec {
            behavior: unannotate(&mut annotations, BEHAVIOR),
            max_replicas: spec.max_replicas,
            metrics: (!metrics.is_empty()).then_some(metrics),
            min_replicas: spec.min_replicas,
            scale_target_ref: v2::CrossVersionObjectReference {
                api_version: reference.api_version,
                kind: reference.kind,
                name: reference.name,
            },
        }
    });
    let current = unannotate::<Vec<v2::MetricStatus>>(&mut annotations, CURRENT_METRICS);
    let conditions =
        unannotate::<Vec<v2::HorizontalPodAutoscalerCondition>>(&mut annotations, CONDITIONS);
    let status = view.status.map(|status| {
        let mut metrics: Vec<v2::MetricStatus> = status
            .current_cpu_utilization_percentage
            .map(|percent| v2::MetricStatus {
                type_: "Resource".into(),
                resource: Some(v2::ResourceMetricStatus {
                    name: "cpu".into(),
                    current: v2::MetricValueStatus {
                        average_utilization: Some(percent),
                        ..Default::default()
                    },
                }),
                ..Default::default()
            })
            .into_iter()
            .collect();
        metrics.extend(current.unwrap_or_default());
        let conditions = conditions.unwrap_or_default();
        v2::HorizontalPodAutoscalerStatus {
            conditions: (!conditions.is_empty()).then_some(conditions),
            current_metrics: (!metrics.is_empty()).then_some(metrics),
            current_replicas: Some(status.current_replicas),
            desired_replicas: status.desired_replicas,
            last_scale_time: status.last_scale_time,
            observed_generation: status.observed_generation,
        }
    });
    metadata.annotations = (!annotations.is_empty()).then_some(annotations);
    v2::HorizontalPodAutoscaler {
        metadata,
        spec,
        status,
    }
}

/// The CPU utilization a v2 metric targets, if that is what it is.
fn target_cpu(metric: &v2::MetricSpec) -> Option<i32> {
    let resource = metric.resource.as_ref()?;
    (metric.type_ == "Resource" && resource.name == "cpu" && resource.target.type_ == "Utilization")
        .then_some(resource.target.average_utilization)
        .flatten()
}

/// The CPU utilization a v2 metric status reports, if that is what it is.
fn current_cpu(metric: &v2::MetricStatus) -> Option<i32> {
    let resource = metric.resource.as_ref()?;
    (metric.type_ == "Resource" && resource.name == "cpu")
        .then_some(resource.current.average_utilization)
        .flatten()
}

/// Keeps `value` in the annotation `key`, or none when there is nothing to keep.
fn annotate<T: Serialize + ?Sized>(
    annotations: &mut BTreeMap<String, String>,
    key: &str,
    value: &T,
) {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Array(list)) if list.is_empty() => {}
        Ok(serde_json::Value::Null) | Err(_) => {}
        Ok(json) => {
            annotations.insert(key.to_owned(), json.to_string());
        }
    }
}

/// Takes back what the annotation `key` kept; one that does not read is left as it is.
fn unannotate<T: DeserializeOwned>(
    annotations: &mut BTreeMap<String, String>,
    key: &str,
) -> Option<T> {
    let value = serde_json::from_str(annotations.get(key)?).ok()?;
    annotations.remove(key);
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stored(value: serde_json::Value) -> v2::HorizontalPodAutoscaler {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn cpu_utilization_is_v1_s_own_field() {
        let autoscaler = stored(json!({
            "metadata": {"name": "web"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                     "minReplicas": 1, "maxReplicas": 5,
                     "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]},
            "status": {"currentReplicas": 2, "desiredReplicas": 3,
                       "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 55}}}]},
        }));
        let view = to_v1(autoscaler.clone());
        let spec = view.spec.as_ref().unwrap();
        assert_eq!(spec.target_cpu_utilization_percentage, Some(70));
        assert_eq!(spec.scale_target_ref.name, "web");
        let status = view.status.as_ref().unwrap();
        assert_eq!((status.current_replicas, status.desired_replicas), (2, 3));
        assert_eq!(status.current_cpu_utilization_percentage, Some(55));
        assert!(view.metadata.annotations.is_none(), "nothing else to keep");
        assert_eq!(to_v2(view), autoscaler);
    }

    #[test]
    fn what_v1_cannot_say_survives_a_round_trip_in_annotations() {
        let autoscaler = stored(json!({
            "metadata": {"name": "web", "annotations": {"team": "a"}},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 9,
                     "metrics": [
                         {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}}},
                         {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}},
                     ],
                     "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}},
            "status": {"desiredReplicas": 1, "currentReplicas": 1,
                       "conditions": [{"type": "AbleToScale", "status": "True"}]},
        }));
        let view = to_v1(autoscaler.clone());
        let annotations = view.metadata.annotations.clone().unwrap();
        assert!(annotations[METRICS].contains("memory"));
        assert!(!annotations[METRICS].contains("cpu"));
        assert!(annotations[BEHAVIOR].contains("stabilizationWindowSeconds"));
        assert!(annotations[CONDITIONS].contains("AbleToScale"));
        assert_eq!(
            view.spec
                .as_ref()
                .unwrap()
                .target_cpu_utilization_percentage,
            Some(50)
        );
        let back = to_v2(view);
        assert_eq!(back.metadata.annotations, autoscaler.metadata.annotations);
        assert_eq!(
            back.spec.as_ref().unwrap().behavior,
            autoscaler.spec.as_ref().unwrap().behavior
        );
        assert_eq!(back.status, autoscaler.status);
        let metrics = back.spec.unwrap().metrics.unwrap();
        assert_eq!(
            metrics.len(),
            2,
            "the CPU target comes first, the rest after it"
        );
        assert_eq!(target_cpu(&metrics[0]), Some(50));
    }
}
