//! Tables of the batch group: jobs (how each stands, how many completions it has, how long it
//! ran) and cron jobs (their schedule, whether they are suspended, what runs and when it last
//! did).

use jiff::Timestamp;
use k8s_openapi::api::batch::v1::{CronJob, Job, JobCondition, JobStatus};
use serde_json::Value;

use super::common::{self, AGE, CONTAINERS, IMAGES, NAME};
use super::labels::format_selector;
use super::{Column, Printer, duration};

pub(super) static JOBS: Printer = Printer {
    columns: &JOB_COLUMNS,
    row: job_row,
};
pub(super) static CRON_JOBS: Printer = Printer {
    columns: &CRON_JOB_COLUMNS,
    row: cron_job_row,
};

/// Cron jobs show the selector of the jobs they make, described as the jobs' own.
const SELECTOR: Column = Column::string(
    "Selector",
    "A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
)
.wide();

const JOB_COLUMNS: [Column; 8] = [
    NAME,
    Column::string("Status", "Status of the job."),
    Column::string(
        "Completions",
        "The number of pods which reached phase Succeeded. The value increases monotonically for a given spec. However, it may decrease in reaction to scale down of elastic indexed jobs.",
    ),
    Column::string("Duration", "Time required to complete the job."),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

const CRON_JOB_COLUMNS: [Column; 10] = [
    NAME,
    Column::string(
        "Schedule",
        "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.",
    ),
    Column::string(
        "Timezone",
        "The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this will default to the time zone of the kube-controller-manager process. The set of valid time zone names and the time zone offset is loaded from the system-wide time zone database by the API server during CronJob validation and the controller manager during execution. If no system-wide time zone database can be found a bundled version of the database is used instead. If the time zone name becomes invalid during the lifetime of a CronJob or due to a change in host configuration, the controller will stop creating new new Jobs and will create a system event with the reason UnknownTimeZone. More information can be found in https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones",
    ),
    Column::boolean(
        "Suspend",
        "This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false.",
    ),
    Column::integer("Active", "A list of pointers to currently running jobs."),
    Column::string(
        "Last Schedule",
        "Information when was the last time the job was successfully scheduled.",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

fn job_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let job: Job = common::parse(object)?;
    let spec = job.spec.unwrap_or_default();
    let status = job.status.unwrap_or_default();
    let conditions = status.conditions.as_deref().unwrap_or_default();
    let deleting = job.metadata.deletion_timestamp.is_some();
    let [containers, images] = common::container_cells(Some(&spec.template));
    Some(vec![
        common::name(&job.metadata),
        job_status(conditions, deleting).into(),
        completions(
            spec.completions,
            spec.parallelism,
            status.succeeded.unwrap_or(0),
        )
        .into(),
        run_time(&status, now).into(),
        common::age(&job.metadata, now),
        containers,
        images,
        format_selector(spec.selector.as_ref()).into(),
    ])
}

/// The job's standing, finished states first: Complete, Failed, Terminating, Suspended,
/// FailureTarget, else Running.
fn job_status(conditions: &[JobCondition], deleting: bool) -> &'static str {
    let holds = |condition_type: &str| {
        let condition = conditions
            .iter()
            .find(|condition| condition.type_ == condition_type);
        condition.is_some_and(|condition| condition.status == "True")
    };
    if holds("Complete") {
        "Complete"
    } else if holds("Failed") {
        "Failed"
    } else if deleting {
        "Terminating"
    } else if holds("Suspended") {
        "Suspended"
    } else if holds("FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    }
}

/// "succeeded/completions"; a job without a completion count finishes on its first success,
/// shown as "n/1", with its parallelism when it runs several pods ("0/1 of 3").
fn completions(completions: Option<i32>, parallelism: Option<i32>, succeeded: i32) -> String {
    match (completions, parallelism.unwrap_or(0)) {
        (Some(completions), _) => format!("{succeeded}/{completions}"),
        (None, parallelism) if parallelism > 1 => format!("{succeeded}/1 of {parallelism}"),
        (None, _) => format!("{succeeded}/1"),
    }
}

/// From start to completion, or to now while the job runs; empty before it starts.
fn run_time(status: &JobStatus, now: Timestamp) -> String {
    let Some(start) = status.start_time.as_ref() else {
        return String::new();
    };
    let end = status
        .completion_time
        .as_ref()
        .map_or(now, |completion| completion.0);
    duration::human(end.duration_since(start.0))
}

fn cron_job_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let cron_job: CronJob = common::parse(object)?;
    let spec = cron_job.spec.unwrap_or_default();
    let status = cron_job.status.unwrap_or_default();
    let job = spec.job_template.spec.unwrap_or_default();
    let [containers, images] = common::container_cells(Some(&job.template));
    // A cron job that has not run yet has no last schedule at all.
    let last_schedule = match status.last_schedule_time {
        Some(time) => duration::since(Some(time.0), now),
        None => "<none>".to_owned(),
    };
    // The API defaults an unset suspend to false.
    let suspend = if spec.suspend.unwrap_or(false) {
        "True"
    } else {
        "False"
    };
    Some(vec![
        common::name(&cron_job.metadata),
        spec.schedule.into(),
        spec.time_zone.unwrap_or_else(|| "<none>".to_owned()).into(),
        suspend.into(),
        status.active.as_ref().map_or(0, Vec::len).into(),
        last_schedule.into(),
        common::age(&cron_job.metadata, now),
        containers,
        images,
        format_selector(job.selector.as_ref()).into(),
    ])
}
