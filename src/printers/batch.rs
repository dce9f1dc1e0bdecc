//! The jobs table: how the job stands, how many completions it has, and how long it ran.

use jiff::Timestamp;
use k8s_openapi::api::batch::v1::{Job, JobCondition, JobStatus};
use serde_json::Value;

use super::common::{self, AGE, CONTAINERS, IMAGES, NAME};
use super::labels::format_selector;
use super::{Column, Printer, duration};

pub(super) static JOBS: Printer = Printer {
    columns: &COLUMNS,
    row,
};

const COLUMNS: [Column; 8] = [
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
    Column::string(
        "Selector",
        "A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
    )
    .wide(),
];

fn row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
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
