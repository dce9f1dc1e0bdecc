//! HorizontalPodAutoscalers (upstream's `pkg/apis/autoscaling/validation`, autoscaling/v2
//! objects): replica bounds, the scale target, and each metric's source and target.

use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, MetricSpec, MetricTarget,
};

use super::field::{ErrorList, FieldError, Path};
use super::meta::{label_selector, object_meta};
use super::names::NameRule;

const METRIC_TYPES: [&str; 5] = [
    "ContainerResource",
    "External",
    "Object",
    "Pods",
    "Resource",
];
const TARGET_TYPES: [&str; 3] = ["AverageValue", "Utilization", "Value"];

/// Validates a HorizontalPodAutoscaler on create (`old` is `None`) or update.
pub fn horizontal_pod_autoscaler(
    new: &HorizontalPodAutoscaler,
    old: Option<&HorizontalPodAutoscaler>,
) -> ErrorList {
    let mut errs = object_meta(
        &new.metadata,
        true,
        NameRule::DnsSubdomain,
        old.map(|o| &o.metadata),
    );
    let path = Path::new("spec");
    let Some(spec) = &new.spec else {
        errs.push(FieldError::required(&path, ""));
        return errs;
    };
    let min = spec.min_replicas.unwrap_or(1);
    if min < 1 {
        errs.push(FieldError::invalid(
            &path.child("minReplicas"),
            min,
            "must be greater than or equal to 1",
        ));
    }
    if spec.max_replicas < 1 {
        errs.push(FieldError::invalid(
            &path.child("maxReplicas"),
            spec.max_replicas,
            "must be greater than 0",
        ));
    }
    if spec.max_replicas < min {
        errs.push(FieldError::invalid(
            &path.child("maxReplicas"),
            spec.max_replicas,
            "must be greater than or equal to `minReplicas`",
        ));
    }
    errs.extend(object_reference(
        &spec.scale_target_ref,
        &path.child("scaleTargetRef"),
    ));
    let metrics_path = path.child("metrics");
    for (i, metric) in spec.metrics.iter().flatten().enumerate() {
        errs.extend(metric_spec(metric, &metrics_path.index(i)));
    }
    errs
}

fn object_reference(reference: &CrossVersionObjectReference, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if reference.kind.is_empty() {
        errs.push(FieldError::required(&path.child("kind"), ""));
    } else {
        let field = path.child("kind");
        errs.extend(
            NameRule::PathSegment
                .check(&reference.kind, false)
                .into_iter()
                .map(|m| FieldError::invalid(&field, reference.kind.as_str(), m)),
        );
    }
    if reference.name.is_empty() {
        errs.push(FieldError::required(&path.child("name"), ""));
    } else {
        let field = path.child("name");
        errs.extend(
            NameRule::PathSegment
                .check(&reference.name, false)
                .into_iter()
                .map(|m| FieldError::invalid(&field, reference.name.as_str(), m)),
        );
    }
    errs
}

/// One metric: a known type whose source (and only it) is given, with a valid target.
fn metric_spec(metric: &MetricSpec, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let given: Vec<&str> = [
        ("ContainerResource", metric.container_resource.is_some()),
        ("External", metric.external.is_some()),
        ("Object", metric.object.is_some()),
        ("Pods", metric.pods.is_some()),
        ("Resource", metric.resource.is_some()),
    ]
    .into_iter()
    .filter_map(|(kind, set)| set.then_some(kind))
    .collect();
    if metric.type_.is_empty() {
        errs.push(FieldError::required(
            &path.child("type"),
            "must specify a metric source type",
        ));
        return errs;
    }
    if !METRIC_TYPES.contains(&metric.type_.as_str()) {
        errs.push(FieldError::not_supported(
            &path.child("type"),
            metric.type_.as_str(),
            &METRIC_TYPES,
        ));
        return errs;
    }
    if given.len() != 1 || given[0] != metric.type_ {
        let field = lower_first(&metric.type_);
        if !given.contains(&metric.type_.as_str()) {
            errs.push(FieldError::required(
                &path.child(&field),
                "must populate information for the given metric source",
            ));
        }
        if given.iter().any(|g| *g != metric.type_) {
            errs.push(FieldError::forbidden(
                path,
                "must populate the given metric source only",
            ));
        }
        return errs;
    }
    let (source, target) = match metric.type_.as_str() {
        "ContainerResource" => {
            let source = metric.container_resource.as_ref().map(|s| &s.target);
            ("containerResource", source)
        }
        "External" => ("external", metric.external.as_ref().map(|s| &s.target)),
        "Object" => ("object", metric.object.as_ref().map(|s| &s.target)),
        "Pods" => ("pods", metric.pods.as_ref().map(|s| &s.target)),
        _ => ("resource", metric.resource.as_ref().map(|s| &s.target)),
    };
    let source_path = path.child(source);
    if let Some(resource) = &metric.resource
        && resource.name.is_empty()
    {
        errs.push(FieldError::required(
            &source_path.child("name"),
            "must specify a resource name",
        ));
    }
    for identifier in [
        metric.pods.as_ref().map(|s| &s.metric),
        metric.object.as_ref().map(|s| &s.metric),
        metric.external.as_ref().map(|s| &s.metric),
    ]
    .into_iter()
    .flatten()
    {
        let metric_path = source_path.child("metric");
        if identifier.name.is_empty() {
            errs.push(FieldError::required(
                &metric_path.child("name"),
                "must specify a metric name",
            ));
        }
        errs.extend(label_selector(
            identifier.selector.as_ref(),
            &metric_path.child("selector"),
        ));
    }
    if let Some(target) = target {
        errs.extend(metric_target(target, &source_path.child("target")));
    }
    errs
}

fn metric_target(target: &MetricTarget, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if target.type_.is_empty() {
        errs.push(FieldError::required(
            &path.child("type"),
            "must specify a metric target type",
        ));
    } else if !TARGET_TYPES.contains(&target.type_.as_str()) {
        errs.push(FieldError::not_supported(
            &path.child("type"),
            target.type_.as_str(),
            &TARGET_TYPES,
        ));
    }
    if let Some(utilization) = target.average_utilization.filter(|u| *u < 1) {
        errs.push(FieldError::invalid(
            &path.child("averageUtilization"),
            utilization,
            "must be greater than 0",
        ));
    }
    let has_value = match target.type_.as_str() {
        "Utilization" => target.average_utilization.is_some(),
        "Value" => target.value.is_some(),
        "AverageValue" => target.average_value.is_some(),
        _ => true,
    };
    if !has_value {
        errs.push(FieldError::required(
            path,
            "must set either a target value or averageValue",
        ));
    }
    errs
}

/// `ContainerResource` → `containerResource`, the field a metric type names.
fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|first| first.to_ascii_lowercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{messages, namespaced_meta};
    use super::*;
    use k8s_openapi::api::autoscaling::v2::{HorizontalPodAutoscalerSpec, ResourceMetricSource};

    fn autoscaler(min: i32, max: i32, metrics: Vec<MetricSpec>) -> HorizontalPodAutoscaler {
        HorizontalPodAutoscaler {
            metadata: namespaced_meta("web"),
            spec: Some(HorizontalPodAutoscalerSpec {
                min_replicas: Some(min),
                max_replicas: max,
                metrics: Some(metrics),
                scale_target_ref: CrossVersionObjectReference {
                    api_version: Some("apps/v1".into()),
                    kind: "Deployment".into(),
                    name: "web".into(),
                },
                ..Default::default()
            }),
            status: None,
        }
    }

    fn cpu(utilization: i32) -> MetricSpec {
        MetricSpec {
            type_: "Resource".into(),
            resource: Some(ResourceMetricSource {
                name: "cpu".into(),
                target: MetricTarget {
                    type_: "Utilization".into(),
                    average_utilization: Some(utilization),
                    ..Default::default()
                },
            }),
            ..Default::default()
        }
    }

    #[test]
    fn bounds_and_targets() {
        assert!(horizontal_pod_autoscaler(&autoscaler(1, 5, vec![cpu(80)]), None).is_empty());
        assert_eq!(
            messages(&horizontal_pod_autoscaler(
                &autoscaler(3, 2, vec![cpu(0)]),
                None
            )),
            vec![
                "spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`",
                "spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0",
            ]
        );
    }

    #[test]
    fn a_metric_names_its_source_and_only_it() {
        let mut wrong = cpu(50);
        wrong.type_ = "Pods".into();
        assert_eq!(
            messages(&horizontal_pod_autoscaler(
                &autoscaler(1, 5, vec![wrong]),
                None
            )),
            vec![
                "spec.metrics[0].pods: Required value: must populate information for the given metric source",
                "spec.metrics[0]: Forbidden: must populate the given metric source only",
            ]
        );
    }
}
