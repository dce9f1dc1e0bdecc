//! A namespace's limits: ResourceQuotas (what its objects may use in all) and LimitRanges
//! (bounds and defaults per container, pod or claim). Stored and served; admission does not
//! enforce them yet.

use k8s_openapi::api::core::v1::{LimitRange, ResourceQuota};

use super::strategy::kind;
use super::{Resource, Subresource, Typed};
use crate::{defaults, validation};

kind!(
    ResourceQuotas: ResourceQuota,
    validate: validation::resource_quota,
    prepare_create: empty_status,
);
kind!(
    LimitRanges: LimitRange,
    validate: validation::limit_range,
    defaults: defaults::limit_range,
);

fn empty_status(quota: &mut ResourceQuota) {
    quota.status = Some(Default::default());
}

pub static RESOURCE_QUOTAS: Resource = Resource {
    group: "",
    version: "v1",
    kind: "ResourceQuota",
    plural: "resourcequotas",
    singular: "resourcequota",
    short_names: &["quota"],
    categories: &[],
    namespaced: true,
    subresources: &[Subresource::Status],
    field_labels: &[],
    generation: false,
    returns_deleted_object: false,
    create_only: false,
    strategy: &Typed::<ResourceQuotas>::NEW,
};

pub static LIMIT_RANGES: Resource = Resource {
    kind: "LimitRange",
    plural: "limitranges",
    singular: "limitrange",
    short_names: &["limits"],
    subresources: &[],
    strategy: &Typed::<LimitRanges>::NEW,
    ..RESOURCE_QUOTAS
};
