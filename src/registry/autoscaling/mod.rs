//! HorizontalPodAutoscalers, stored as autoscaling/v2 (the version kubectl 1.27+ and Helm
//! charts write) and served as v2 and, converted, as v1. Created with an empty status.

mod conversion;

use k8s_openapi::api::autoscaling::v1;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use conversion::to_v2;

use super::strategy::kind;
use super::{Kind, Resource, Subresource, Typed};
use crate::validation::ErrorList;
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

/// autoscaling/v1, a view of the stored v2 autoscalers: written and read through
/// [`conversion`], defaulted and validated as the v2 object it stands for.
pub struct HorizontalPodAutoscalersV1;

impl Kind for HorizontalPodAutoscalersV1 {
    type Object = v1::HorizontalPodAutoscaler;

    fn defaults(autoscaler: &mut v1::HorizontalPodAutoscaler) {
        if let Some(spec) = autoscaler.spec.as_mut() {
            spec.min_replicas.get_or_insert(1);
        }
    }

    fn prepare_create(autoscaler: &mut v1::HorizontalPodAutoscaler) {
        autoscaler.status = Some(Default::default());
    }

    fn validate(
        autoscaler: &v1::HorizontalPodAutoscaler,
        old: Option<&v1::HorizontalPodAutoscaler>,
    ) -> ErrorList {
        let old = old.map(|old| to_v2(old.clone()));
        validation::horizontal_pod_autoscaler(&to_v2(autoscaler.clone()), old.as_ref())
    }

    fn from_storage(stored: Value) -> Value {
        retyped(stored, conversion::to_v1)
    }

    fn to_storage(view: Value) -> Value {
        retyped(view, |view| {
            let mut stored = to_v2(view);
            // Stored as v2 objects are: with v2's defaults (a CPU target of 80 % when none).
            defaults::horizontal_pod_autoscaler(&mut stored);
            stored
        })
    }
}

/// `object` through a typed conversion; one that does not decode (nothing stored is such)
/// is left as it is.
fn retyped<A: DeserializeOwned, B: Serialize>(
    object: Value,
    convert: impl FnOnce(A) -> B,
) -> Value {
    match serde_json::from_value::<A>(object.clone()) {
        Ok(typed) => serde_json::to_value(convert(typed)).unwrap_or(object),
        Err(_) => object,
    }
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

pub static RESOURCE_V1: Resource = Resource {
    version: "v1",
    strategy: &Typed::<HorizontalPodAutoscalersV1>::NEW,
    ..RESOURCE
};
