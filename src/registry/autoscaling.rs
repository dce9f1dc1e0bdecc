//! HorizontalPodAutoscalers, served as autoscaling/v2 (the version kubectl 1.27+ and Helm
//! charts write). Created with an empty status.

use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;

use super::strategy::kind;
use super::{Resource, Subresource, Typed};
use crate::{defaults, validation};

kind!(
    HorizontalPodAutoscalers: HorizontalPodAutoscaler,
    validate: validation::horizontal_pod_autoscaler,
    defaults: defaults::horizontal_pod_autoscaler,
    prepare_create: empty_status,
);

fn empty_status(autoscaler: &mut HorizontalPodAutoscaler) {
    autoscaler.status = Some(Default::default());
}

pub static RESOURCE: Resource = Resource {
    group: "autoscaling",
    version: "v2",
    kind: "HorizontalPodAutoscaler",
    plural: "horizontalpodautoscalers",
    singular: "horizontalpodautoscaler",
    short_names: &["hpa"],
    categories: &["all"],
    namespaced: true,
    subresources: &[Subresource::Status],
    field_labels: &[],
    generation: false,
    returns_deleted_object: false,
    create_only: false,
    strategy: &Typed::<HorizontalPodAutoscalers>::NEW,
};
