//! CronJobs: created with an empty status; generation counts spec changes.

use k8s_openapi::api::batch::v1::{CronJob, CronJobStatus};

use super::{Kind, Resource, Subresource, Typed};
use crate::validation::{self, ErrorList};

pub struct CronJobs;

impl Kind for CronJobs {
    type Object = CronJob;

    fn defaults(object: &mut CronJob) {
        crate::defaults::cron_job(object);
    }

    fn prepare_create(object: &mut CronJob) {
        object.status = Some(CronJobStatus::default());
    }

    fn validate(object: &CronJob, old: Option<&CronJob>) -> ErrorList {
        validation::cron_job(object, old)
    }
}

pub static RESOURCE: Resource = Resource {
    group: "batch",
    version: "v1",
    kind: "CronJob",
    plural: "cronjobs",
    singular: "cronjob",
    short_names: &["cj"],
    categories: &["all"],
    namespaced: true,
    subresources: &[Subresource::Status],
    field_labels: &[],
    generation: true,
    returns_deleted_object: false,
    create_only: false,
    strategy: &Typed::<CronJobs>::NEW,
};
