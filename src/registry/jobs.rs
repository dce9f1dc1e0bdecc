//! Jobs: created with an empty status and, unless `manualSelector` is set, a selector on the
//! job's own uid that its pod template is labelled to match, as upstream generates.

use k8s_openapi::api::batch::v1::{Job, JobStatus};

use super::{Kind, Resource, Subresource, Typed};
use crate::validation::{self, ErrorList};

pub struct Jobs;

impl Kind for Jobs {
    type Object = Job;

    fn defaults(object: &mut Job) {
        crate::defaults::job(object);
    }

    fn prepare_create(object: &mut Job) {
        object.status = Some(JobStatus::default());
        crate::defaults::job_selector(object);
    }

    fn validate(object: &Job, old: Option<&Job>) -> ErrorList {
        validation::job(object, old)
    }
}

pub static RESOURCE: Resource = Resource {
    group: "batch",
    version: "v1",
    kind: "Job",
    plural: "jobs",
    singular: "job",
    short_names: &[],
    categories: &["all"],
    namespaced: true,
    subresources: &[Subresource::Status],
    field_labels: &[("status.successful", "0")],
    generation: true,
    returns_deleted_object: false,
    create_only: false,
    strategy: &Typed::<Jobs>::NEW,
};
