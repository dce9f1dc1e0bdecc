//! The horizontal pod autoscalers table of the autoscaling group: what each scales, its metrics
//! as "current/target", its bounds and how many replicas it runs now.

use jiff::Timestamp;
use k8s_openapi::api::autoscaling::v2::{
    HorizontalPodAutoscaler, MetricSpec, MetricStatus, MetricTarget, MetricValueStatus,
    ResourceMetricSource,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use serde_json::Value;

use super::common::{self, AGE, NAME};
use super::{Column, Printer};

pub(super) static HORIZONTAL_POD_AUTOSCALERS: Printer = Printer {
    columns: &COLUMNS,
    row,
};

const COLUMNS: [Column; 7] = [
    NAME,
    Column::string(
        "Reference",
        "scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.",
    ),
    Column::string(
        "Targets",
        "metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).  The desired replica count is calculated multiplying the ratio between the target value and the current value by the current number of pods.  Ergo, metrics used must decrease as the pod count is increased, and vice-versa.  See the individual metric source types for more information about how each type of metric must respond.",
    ),
    Column::string(
        "MinPods",
        "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.  It defaults to 1 pod.  minReplicas is allowed to be 0 if the alpha feature gate HPAScaleToZero is enabled and at least one Object or External metric is configured.  Scaling is active as long as at least one metric value is available.",
    ),
    Column::string(
        "MaxPods",
        "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. It cannot be less that minReplicas.",
    ),
    Column::string(
        "Replicas",
        "currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.",
    ),
    AGE,
];

/// The API defaults an unset minimum to one replica.
const DEFAULT_MIN_REPLICAS: i32 = 1;

/// The API defaults an autoscaler without metrics to this average CPU utilization, in percent.
const DEFAULT_CPU_UTILIZATION: i32 = 80;

/// How many metrics the Targets cell shows before " + N more...".
const SHOWN_METRICS: usize = 2;

fn row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    // Either version prints as upstream prints both: from the v2 form.
    let autoscaler: HorizontalPodAutoscaler = if object["apiVersion"] == "autoscaling/v1" {
        crate::registry::autoscaling::to_v2(common::parse(object)?)
    } else {
        common::parse(object)?
    };
    let spec = autoscaler.spec.unwrap_or_default();
    let status = autoscaler.status.unwrap_or_default();
    let target = &spec.scale_target_ref;
    let metrics = match spec.metrics.as_deref() {
        None | Some([]) => vec![default_metric()],
        Some(metrics) => metrics.to_vec(),
    };
    let current = status.current_metrics.as_deref().unwrap_or_default();
    Some(vec![
        common::name(&autoscaler.metadata),
        format!("{}/{}", target.kind, target.name).into(),
        targets(&metrics, current).into(),
        spec.min_replicas
            .unwrap_or(DEFAULT_MIN_REPLICAS)
            .to_string()
            .into(),
        spec.max_replicas.into(),
        status.current_replicas.unwrap_or(0).into(),
        common::age(&autoscaler.metadata, now),
    ])
}

/// The metric the API gives an autoscaler that names none: average CPU utilization.
fn default_metric() -> MetricSpec {
    MetricSpec {
        type_: "Resource".to_owned(),
        resource: Some(ResourceMetricSource {
            name: "cpu".to_owned(),
            target: MetricTarget {
                type_: "Utilization".to_owned(),
                average_utilization: Some(DEFAULT_CPU_UTILIZATION),
                ..MetricTarget::default()
            },
        }),
        ..MetricSpec::default()
    }
}

/// Each metric as "current/target", its current value taken from the status entry at the same
/// position, `<unknown>` until the autoscaler has measured it; the first two, then
/// " + N more...".
fn targets(specs: &[MetricSpec], statuses: &[MetricStatus]) -> String {
    let texts: Vec<String> = specs
        .iter()
        .enumerate()
        .map(|(index, spec)| metric_text(spec, statuses.get(index)))
        .collect();
    let shown = texts[..texts.len().min(SHOWN_METRICS)].join(", ");
    if texts.len() > SHOWN_METRICS {
        format!("{shown} + {} more...", texts.len() - SHOWN_METRICS)
    } else {
        shown
    }
}

/// One metric: "current/target", "current/target (avg)" for an object or external metric
/// averaged over pods, and "cpu: current/target" for resources, with utilizations in percent.
fn metric_text(spec: &MetricSpec, status: Option<&MetricStatus>) -> String {
    const UNKNOWN_TYPE: &str = "<unknown type>";
    match spec.type_.as_str() {
        "External" => {
            let Some(source) = spec.external.as_ref() else {
                return UNKNOWN_TYPE.to_owned();
            };
            let current = status.and_then(|status| status.external.as_ref());
            value_or_average(&source.target, current.map(|current| &current.current))
        }
        "Pods" => {
            let Some(source) = spec.pods.as_ref() else {
                return UNKNOWN_TYPE.to_owned();
            };
            let current = status
                .and_then(|status| status.pods.as_ref())
                .map(|current| quantity(current.current.average_value.as_ref()));
            let current = current.unwrap_or_else(|| "<unknown>".to_owned());
            format!(
                "{current}/{}",
                quantity(source.target.average_value.as_ref())
            )
        }
        "Object" => {
            let Some(source) = spec.object.as_ref() else {
                return UNKNOWN_TYPE.to_owned();
            };
            let current = status.and_then(|status| status.object.as_ref());
            value_or_average(&source.target, current.map(|current| &current.current))
        }
        "Resource" => {
            let Some(source) = spec.resource.as_ref() else {
                return UNKNOWN_TYPE.to_owned();
            };
            let current = status.and_then(|status| status.resource.as_ref());
            let usage = resource_usage(&source.target, current.map(|current| &current.current));
            format!("{}: {usage}", source.name)
        }
        "ContainerResource" => {
            let Some(source) = spec.container_resource.as_ref() else {
                return UNKNOWN_TYPE.to_owned();
            };
            let current = status.and_then(|status| status.container_resource.as_ref());
            let usage = resource_usage(&source.target, current.map(|current| &current.current));
            format!("{}: {usage}", source.name)
        }
        _ => UNKNOWN_TYPE.to_owned(),
    }
}

/// An object or external metric: its average over pods when the target sets one, marked
/// "(avg)", else its value.
fn value_or_average(target: &MetricTarget, current: Option<&MetricValueStatus>) -> String {
    match &target.average_value {
        Some(average) => {
            let current = current
                .and_then(|current| current.average_value.as_ref())
                .map_or_else(|| "<unknown>".to_owned(), |current| current.0.clone());
            format!("{current}/{} (avg)", average.0)
        }
        None => {
            let current = current.map_or_else(
                || "<unknown>".to_owned(),
                |current| quantity(current.value.as_ref()),
            );
            format!("{current}/{}", quantity(target.value.as_ref()))
        }
    }
}

/// A resource metric: an average value when the target sets one, else a utilization in
/// percent ("50%/80%"), `<auto>` for a target that sets neither.
fn resource_usage(target: &MetricTarget, current: Option<&MetricValueStatus>) -> String {
    match &target.average_value {
        Some(average) => {
            let current = current.map_or_else(
                || "<unknown>".to_owned(),
                |current| quantity(current.average_value.as_ref()),
            );
            format!("{current}/{}", average.0)
        }
        None => {
            let current = current
                .and_then(|current| current.average_utilization)
                .map_or_else(|| "<unknown>".to_owned(), |percent| format!("{percent}%"));
            let target = target
                .average_utilization
                .map_or_else(|| "<auto>".to_owned(), |percent| format!("{percent}%"));
            format!("{current}/{target}")
        }
    }
}

/// A quantity the metric may leave unset, which upstream prints as `<nil>`.
fn quantity(quantity: Option<&Quantity>) -> String {
    quantity.map_or_else(|| "<nil>".to_owned(), |quantity| quantity.0.clone())
}
