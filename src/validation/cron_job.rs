//! CronJobs (upstream's `pkg/apis/batch/validation`: `ValidateCronJobCreate` and
//! `ValidateCronJobUpdate`) and the cron schedules they run on.
//!
//! Schedules follow the parser kube-apiserver and the CronJob controller share,
//! `github.com/robfig/cron/v3`'s standard parser: five fields (minute, hour, day of month,
//! month, day of week) of values, names, ranges, steps and lists, or one of the descriptors
//! `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight` and `@hourly`. Its error
//! texts are kept, since kube-apiserver returns them unchanged. One departure: robfig also
//! accepts `@every <duration>`, which is refused here. [`Schedule::next_after`] finds run times
//! as robfig's `Next` does, quirks included, so a CronJob runs when it would on Kubernetes.

use std::path::PathBuf;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, JobSpec, JobTemplateSpec};

use super::batch::{
    completion_mode, counts, managed_by, pod_replacement_policy, template_restart_policy,
};
use super::field::{ErrorList, FieldError, Path};
use super::go;
use super::meta::{non_negative, object_meta};
use super::names::NameRule;
use super::pod_spec::pod_template;
use super::text;

/// The controller names each Job `<cronjob>-<minutes since the epoch>`, eleven characters
/// more, and Job names must fit in a 63-character label.
const MAX_NAME_LENGTH: usize = 52;
const CONCURRENCY_POLICIES: [&str; 3] = ["Allow", "Forbid", "Replace"];
/// Where Go's `time.LoadLocation` looks for zone files on Unix.
const ZONEINFO_DIRS: [&str; 4] = [
    "/usr/share/zoneinfo",
    "/usr/share/lib/zoneinfo",
    "/usr/lib/locale/TZ",
    "/etc/zoneinfo",
];

/// Validates a CronJob on create (`old` is `None`) or update.
pub fn cron_job(new: &CronJob, old: Option<&CronJob>) -> ErrorList {
    let default_spec = CronJobSpec::default();
    let spec = new.spec.as_ref().unwrap_or(&default_spec);
    let old_spec = old.map(|o| o.spec.as_ref().unwrap_or(&default_spec));
    let mut errs = object_meta(
        &new.metadata,
        true,
        NameRule::DnsSubdomain,
        old.map(|o| &o.metadata),
    );
    errs.extend(cron_job_spec(spec, old_spec, &Path::new("spec")));
    // Only on create, so CronJobs made before the limit can still be updated and deleted.
    let name = text(&new.metadata.name);
    if old.is_none() && name.len() > MAX_NAME_LENGTH {
        errs.push(FieldError::invalid(
            &Path::new("metadata").child("name"),
            name,
            format!("must be no more than {MAX_NAME_LENGTH} characters"),
        ));
    }
    errs
}

/// Upstream's `validateCronJobSpec`, in its order; `old` is the stored spec on update.
fn cron_job_spec(spec: &CronJobSpec, old: Option<&CronJobSpec>, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let schedule_path = path.child("schedule");
    if spec.schedule.is_empty() {
        errs.push(FieldError::required(&schedule_path, ""));
    } else {
        // A zone in the schedule was allowed once; objects that have one keep it.
        let zone_allowed = old.is_some_and(|o| o.schedule.contains("TZ"));
        errs.extend(schedule(
            &spec.schedule,
            zone_allowed,
            spec.time_zone.is_some(),
            &schedule_path,
        ));
    }
    if let Some(deadline) = spec.starting_deadline_seconds {
        errs.extend(non_negative(
            deadline,
            &path.child("startingDeadlineSeconds"),
        ));
    }
    // An unchanged zone is not looked up again: the zone database may have lost it since.
    if old.is_none_or(|o| o.time_zone != spec.time_zone) {
        errs.extend(time_zone_field(
            spec.time_zone.as_deref(),
            &path.child("timeZone"),
        ));
    }
    errs.extend(concurrency_policy(
        text(&spec.concurrency_policy),
        &path.child("concurrencyPolicy"),
    ));
    errs.extend(job_template(&spec.job_template, &path.child("jobTemplate")));
    let limits = [
        (
            "successfulJobsHistoryLimit",
            spec.successful_jobs_history_limit,
        ),
        ("failedJobsHistoryLimit", spec.failed_jobs_history_limit),
    ];
    for (field, limit) in limits {
        if let Some(limit) = limit {
            errs.extend(non_negative(i64::from(limit), &path.child(field)));
        }
    }
    errs
}

/// The schedule parses, and names no zone: the `timeZone` field does that.
fn schedule(schedule: &str, zone_allowed: bool, has_time_zone: bool, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if let Err(message) = parse_schedule(schedule) {
        errs.push(FieldError::invalid(path, schedule, message));
    }
    let names_zone = schedule.contains("TZ");
    if zone_allowed && names_zone && has_time_zone {
        errs.push(FieldError::invalid(
            path,
            schedule,
            "cannot use both timeZone field and TZ or CRON_TZ in schedule",
        ));
    } else if !zone_allowed && names_zone {
        errs.push(FieldError::invalid(
            path,
            schedule,
            "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
        ));
    }
    errs
}

/// An IANA zone name the zone database knows; `Local` would depend on the controller's host.
fn time_zone_field(zone: Option<&str>, path: &Path) -> ErrorList {
    let Some(zone) = zone else {
        return ErrorList::new();
    };
    if zone.is_empty() {
        return vec![FieldError::invalid(
            path,
            zone,
            "timeZone must be nil or non-empty string",
        )];
    }
    if !zone.split('/').all(is_zone_name_part) {
        return vec![FieldError::invalid(
            path,
            zone,
            format!("unknown time zone {zone}"),
        )];
    }
    let mut errs = ErrorList::new();
    if zone.eq_ignore_ascii_case("Local") {
        errs.push(FieldError::invalid(
            path,
            zone,
            "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
        ));
    }
    if let Err(message) = time_zone(zone) {
        errs.push(FieldError::invalid(path, zone, message));
    }
    errs
}

/// The IANA naming rules for one part of a zone name (letters, `.`, `-`, `_`, at most 14
/// characters, no leading `-`, not `.` or `..`), with the digits and `+` of legacy names.
fn is_zone_name_part(part: &str) -> bool {
    part != "."
        && part != ".."
        && !part.starts_with('-')
        && (1..=14).contains(&part.len())
        && part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'+'))
}

fn concurrency_policy(policy: &str, path: &Path) -> Option<FieldError> {
    match policy {
        "" => Some(FieldError::required(path, "")),
        "Allow" | "Forbid" | "Replace" => None,
        other => Some(FieldError::not_supported(
            path,
            other,
            &CONCURRENCY_POLICIES,
        )),
    }
}

/// The Job template (`ValidateJobTemplateSpec`): its spec is a Job's, except that the
/// controller generates each Job's selector, so the template may not set one.
fn job_template(template: &JobTemplateSpec, path: &Path) -> ErrorList {
    let default_spec = JobSpec::default();
    let spec = template.spec.as_ref().unwrap_or(&default_spec);
    let spec_path = path.child("spec");
    let mut errs = job_spec(spec, &spec_path);
    if let Some(selector) = &spec.selector {
        errs.push(FieldError::invalid(
            &spec_path.child("selector"),
            go::label_selector(selector),
            "`selector` will be auto-generated",
        ));
    }
    if spec.manual_selector == Some(true) {
        errs.push(FieldError::not_supported(
            &spec_path.child("manualSelector"),
            true,
            &["nil", "false"],
        ));
    }
    errs
}

/// Upstream's `validateJobSpec`: the Job rules of `batch.rs` without the selector ones.
fn job_spec(spec: &JobSpec, path: &Path) -> ErrorList {
    let mut errs = counts(spec, path);
    errs.extend(managed_by(spec, &path.child("managedBy")));
    errs.extend(completion_mode(spec, path));
    if spec.success_policy.is_some() && text(&spec.completion_mode) != "Indexed" {
        errs.push(FieldError::invalid_omitted(
            &path.child("successPolicy"),
            "requires indexed completion mode",
        ));
    }
    errs.extend(pod_replacement_policy(
        spec,
        &path.child("podReplacementPolicy"),
    ));
    errs.extend(pod_template(&spec.template, &path.child("template")));
    errs.extend(template_restart_policy(
        spec,
        &path.child("template").child("spec").child("restartPolicy"),
    ));
    errs
}

/// A zone by its IANA name, as Go's `time.LoadLocation` finds it: `UTC` (and the empty name)
/// always, others from the system's zone files, matched case-sensitively. `Local`, the host's
/// zone, is UTC here, as in the cluster's containers.
///
/// The files are read directly (`TZDIR` first, then Go's directories) rather than through
/// `jiff::tz::TimeZone::get`: the workspace builds jiff without its `tzdb-zoneinfo` feature,
/// which leaves that lookup without a database, and it would match names case-insensitively.
pub fn time_zone(name: &str) -> Result<TimeZone, String> {
    if matches!(name, "" | "UTC" | "Local") {
        return Ok(TimeZone::UTC);
    }
    if name.contains("..") || name.starts_with('/') || name.starts_with('\\') {
        return Err("time: invalid location name".to_string());
    }
    let dirs = std::env::var_os("TZDIR")
        .map(PathBuf::from)
        .into_iter()
        .chain(ZONEINFO_DIRS.into_iter().map(PathBuf::from));
    for dir in dirs {
        if let Ok(data) = std::fs::read(dir.join(name))
            && let Ok(zone) = TimeZone::tzif(name, &data)
        {
            return Ok(zone);
        }
    }
    Err(format!("unknown time zone {name}"))
}

/// The zone a `TZ=` prefix names; `None` for `Local`, which leaves the zone to the caller.
fn location(name: &str) -> Result<Option<TimeZone>, String> {
    if name == "Local" {
        return Ok(None);
    }
    time_zone(name).map(Some)
}

/// Bit 63 of a field marks a `*` (or `?`) in it: a day-of-month or day-of-week field written
/// with a star does not widen the days the other field allows.
const STAR: u64 = 1 << 63;

/// The values one field allows, and the names that stand for values.
struct Bounds {
    min: u64,
    max: u64,
    names: &'static [(&'static str, u64)],
}

const SECONDS: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
};
const MINUTES: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
};
const HOURS: Bounds = Bounds {
    min: 0,
    max: 23,
    names: &[],
};
const DAYS_OF_MONTH: Bounds = Bounds {
    min: 1,
    max: 31,
    names: &[],
};
const MONTHS: Bounds = Bounds {
    min: 1,
    max: 12,
    names: &[
        ("jan", 1),
        ("feb", 2),
        ("mar", 3),
        ("apr", 4),
        ("may", 5),
        ("jun", 6),
        ("jul", 7),
        ("aug", 8),
        ("sep", 9),
        ("oct", 10),
        ("nov", 11),
        ("dec", 12),
    ],
};
const DAYS_OF_WEEK: Bounds = Bounds {
    min: 0,
    max: 6,
    names: &[
        ("sun", 0),
        ("mon", 1),
        ("tue", 2),
        ("wed", 3),
        ("thu", 4),
        ("fri", 5),
        ("sat", 6),
    ],
};

/// A parsed cron schedule: for each field the set of values it allows (bit `n` allows `n`,
/// days of the week counted from Sunday as 0), to the second, as robfig keeps them.
#[derive(Clone, Debug)]
pub struct Schedule {
    second: u64,
    minute: u64,
    hour: u64,
    day_of_month: u64,
    month: u64,
    day_of_week: u64,
    /// The zone a `TZ=` or `CRON_TZ=` prefix named; `None` runs in the caller's zone.
    zone: Option<TimeZone>,
}

/// Parses a schedule as robfig's `ParseStandard` does, with its error texts.
///
/// A leading `TZ=<zone>` or `CRON_TZ=<zone>` is accepted here, as robfig accepts it: the
/// CronJob rules refuse it in new objects, but stored ones may carry it.
pub fn parse_schedule(spec: &str) -> Result<Schedule, String> {
    if spec.is_empty() {
        return Err("empty spec string".to_string());
    }
    let (zone, spec) = if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
        let name_start = spec.find('=').map_or(0, |eq| eq + 1);
        let name_end = spec.find(' ').unwrap_or(spec.len());
        let name = &spec[name_start..name_end];
        let zone = location(name).map_err(|e| format!("provided bad location {name}: {e}"))?;
        (zone, spec[name_end..].trim())
    } else {
        (None, spec)
    };
    if spec.starts_with('@') {
        return descriptor(spec, zone);
    }
    let fields: Vec<&str> = spec.split_whitespace().collect();
    let [minute, hour, day_of_month, month, day_of_week] = fields.as_slice() else {
        return Err(format!(
            "expected exactly 5 fields, found {}: [{}]",
            fields.len(),
            fields.join(" ")
        ));
    };
    Ok(Schedule {
        second: field("0", &SECONDS)?,
        minute: field(minute, &MINUTES)?,
        hour: field(hour, &HOURS)?,
        day_of_month: field(day_of_month, &DAYS_OF_MONTH)?,
        month: field(month, &MONTHS)?,
        day_of_week: field(day_of_week, &DAYS_OF_WEEK)?,
        zone,
    })
}

/// The named schedules, each run at the first second of its period.
fn descriptor(spec: &str, zone: Option<TimeZone>) -> Result<Schedule, String> {
    let first = |bounds: &Bounds| 1u64 << bounds.min;
    let all = |bounds: &Bounds| bits(bounds.min, bounds.max, 1) | STAR;
    let (hour, day_of_month, month, day_of_week) = match spec {
        "@yearly" | "@annually" => (
            first(&HOURS),
            first(&DAYS_OF_MONTH),
            first(&MONTHS),
            all(&DAYS_OF_WEEK),
        ),
        "@monthly" => (
            first(&HOURS),
            first(&DAYS_OF_MONTH),
            all(&MONTHS),
            all(&DAYS_OF_WEEK),
        ),
        "@weekly" => (
            first(&HOURS),
            all(&DAYS_OF_MONTH),
            all(&MONTHS),
            first(&DAYS_OF_WEEK),
        ),
        "@daily" | "@midnight" => (
            first(&HOURS),
            all(&DAYS_OF_MONTH),
            all(&MONTHS),
            all(&DAYS_OF_WEEK),
        ),
        "@hourly" => (
            all(&HOURS),
            all(&DAYS_OF_MONTH),
            all(&MONTHS),
            all(&DAYS_OF_WEEK),
        ),
        // A fixed interval from whenever the controller last looked has no place in a
        // schedule of wall-clock times.
        _ if spec.starts_with("@every ") => {
            return Err(format!(
                "@every is not supported, use a five-field schedule: {spec}"
            ));
        }
        _ => return Err(format!("unrecognized descriptor: {spec}")),
    };
    Ok(Schedule {
        second: first(&SECONDS),
        minute: first(&MINUTES),
        hour,
        day_of_month,
        month,
        day_of_week,
        zone,
    })
}

/// A comma-separated list of ranges (empty items are skipped, as robfig skips them).
fn field(field: &str, bounds: &Bounds) -> Result<u64, String> {
    field
        .split(',')
        .filter(|expr| !expr.is_empty())
        .try_fold(0, |set, expr| Ok(set | range(expr, bounds)?))
}

/// One item: `*`, `?`, a value or `low-high`, optionally `/step`. A value with a step runs to
/// the field's maximum; a star with a step above 1 no longer counts as a star.
fn range(expr: &str, bounds: &Bounds) -> Result<u64, String> {
    let range_and_step: Vec<&str> = expr.split('/').collect();
    let low_and_high: Vec<&str> = range_and_step[0].split('-').collect();
    let (start, mut end, mut star) = if matches!(low_and_high[0], "*" | "?") {
        (bounds.min, bounds.max, STAR)
    } else {
        let start = value(low_and_high[0], bounds)?;
        let end = match low_and_high.len() {
            1 => start,
            2 => value(low_and_high[1], bounds)?,
            _ => return Err(format!("too many hyphens: {expr}")),
        };
        (start, end, 0)
    };
    let step = match range_and_step.len() {
        1 => 1,
        2 => {
            let step = number(range_and_step[1])?;
            if low_and_high.len() == 1 {
                end = bounds.max;
            }
            if step > 1 {
                star = 0;
            }
            step
        }
        _ => return Err(format!("too many slashes: {expr}")),
    };
    if start < bounds.min {
        return Err(format!(
            "beginning of range ({start}) below minimum ({}): {expr}",
            bounds.min
        ));
    }
    if end > bounds.max {
        return Err(format!(
            "end of range ({end}) above maximum ({}): {expr}",
            bounds.max
        ));
    }
    if start > end {
        return Err(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expr}"
        ));
    }
    if step == 0 {
        return Err(format!("step of range should be a positive number: {expr}"));
    }
    Ok(bits(start, end, step) | star)
}

/// A number, or a month or weekday name in any case.
fn value(expr: &str, bounds: &Bounds) -> Result<u64, String> {
    let lower = expr.to_lowercase();
    match bounds.names.iter().find(|(name, _)| *name == lower) {
        Some((_, value)) => Ok(*value),
        None => number(expr),
    }
}

fn number(expr: &str) -> Result<u64, String> {
    let number = atoi(expr).map_err(|e| format!("failed to parse int from {expr}: {e}"))?;
    u64::try_from(number).map_err(|_| format!("negative number ({number}) not allowed: {expr}"))
}

/// Go's `strconv.Atoi`, with its error texts: an optional sign and decimal digits.
fn atoi(s: &str) -> Result<i64, String> {
    let error = |reason: &str| format!("strconv.Atoi: parsing {}: {reason}", go::quote(s));
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return Err(error("invalid syntax"));
    }
    let mut magnitude: u64 = 0;
    for digit in digits.bytes() {
        if !digit.is_ascii_digit() {
            return Err(error("invalid syntax"));
        }
        magnitude = magnitude
            .checked_mul(10)
            .and_then(|m| m.checked_add(u64::from(digit - b'0')))
            .ok_or_else(|| error("value out of range"))?;
    }
    let value = if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    };
    value.ok_or_else(|| error("value out of range"))
}

/// The values from `start` to `end` (both allowed) every `step`.
fn bits(start: u64, end: u64, step: u64) -> u64 {
    (start..=end)
        .step_by(usize::try_from(step).unwrap_or(usize::MAX))
        .fold(0, |set, value| set | 1 << value)
}

fn allows(set: u64, value: i64) -> bool {
    (0..63).contains(&value) && set & (1 << value) != 0
}

impl Schedule {
    /// The first time strictly after `after` that the schedule names, in the zone of its
    /// `TZ=` prefix if it has one and in `tz` otherwise, or `None` if there is none in the
    /// next five years (a date that never comes, such as 30 February).
    ///
    /// This walks the calendar as robfig's `Next` does, so daylight saving time works out the
    /// same: a wall-clock time skipped when clocks go forward is skipped (a daily 02:30 job does
    /// not run that day), one repeated when they go back runs twice.
    pub fn next_after(&self, after: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        let clock = Clock {
            zone: self.zone.as_ref().unwrap_or(tz),
        };
        // The next whole second; a timestamp before 1970 counts its fraction downwards.
        let whole_second = after.as_second() - i64::from(after.subsec_nanosecond() < 0);
        let mut t = whole_second + 1;
        let year_limit = clock.fields(t).year + 5;
        // Once a field has moved, the smaller fields start from their first value.
        let mut moved = false;
        'wrap: loop {
            if clock.fields(t).year > year_limit {
                return None;
            }
            loop {
                let now = clock.fields(t);
                if allows(self.month, now.month) {
                    break;
                }
                if !moved {
                    moved = true;
                    t = clock.date(now.year, now.month, 1, 0, 0, 0);
                }
                let now = clock.fields(t);
                t = clock.date(
                    now.year,
                    now.month + 1,
                    now.day,
                    now.hour,
                    now.minute,
                    now.second,
                );
                if clock.fields(t).month == 1 {
                    continue 'wrap;
                }
            }
            loop {
                let now = clock.fields(t);
                if self.day_matches(&now) {
                    break;
                }
                if !moved {
                    moved = true;
                    t = clock.date(now.year, now.month, now.day, 0, 0, 0);
                }
                let now = clock.fields(t);
                t = clock.date(
                    now.year,
                    now.month,
                    now.day + 1,
                    now.hour,
                    now.minute,
                    now.second,
                );
                // Where midnight fell in a clock change, get back to the day's first hour.
                let hour = clock.fields(t).hour;
                if hour > 12 {
                    t += (24 - hour) * 3600;
                } else {
                    t -= hour * 3600;
                }
                if clock.fields(t).day == 1 {
                    continue 'wrap;
                }
            }
            loop {
                let now = clock.fields(t);
                if allows(self.hour, now.hour) {
                    break;
                }
                if !moved {
                    moved = true;
                    t = clock.date(now.year, now.month, now.day, now.hour, 0, 0);
                }
                t += 3600;
                if clock.fields(t).hour == 0 {
                    continue 'wrap;
                }
            }
            loop {
                if allows(self.minute, clock.fields(t).minute) {
                    break;
                }
                if !moved {
                    moved = true;
                    t = t.div_euclid(60) * 60;
                }
                t += 60;
                if clock.fields(t).minute == 0 {
                    continue 'wrap;
                }
            }
            loop {
                if allows(self.second, clock.fields(t).second) {
                    break;
                }
                moved = true;
                t += 1;
                if clock.fields(t).second == 0 {
                    continue 'wrap;
                }
            }
            return Timestamp::from_second(t).ok();
        }
    }

    /// Vixie cron's rule: when both day fields are restricted, a day matching either runs;
    /// when one is a star, the other decides.
    fn day_matches(&self, now: &Fields) -> bool {
        let by_month = allows(self.day_of_month, now.day);
        let by_week = allows(self.day_of_week, now.weekday);
        if self.day_of_month & STAR != 0 || self.day_of_week & STAR != 0 {
            by_month && by_week
        } else {
            by_month || by_week
        }
    }
}

/// Wall-clock fields of an instant in a zone.
struct Fields {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    /// Sunday is 0.
    weekday: i64,
}

/// Converts between Unix seconds and a zone's wall clock the way Go's `time` package does.
struct Clock<'z> {
    zone: &'z TimeZone,
}

impl Clock<'_> {
    /// The zone's offset from UTC at an instant, in seconds.
    fn offset(&self, unix: i64) -> i64 {
        Timestamp::from_second(unix).map_or(0, |at| i64::from(self.zone.to_offset(at).seconds()))
    }

    fn fields(&self, unix: i64) -> Fields {
        let local = unix + self.offset(unix);
        let days = local.div_euclid(86_400);
        let second_of_day = local.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        Fields {
            year,
            month,
            day,
            hour: second_of_day / 3600,
            minute: second_of_day % 3600 / 60,
            second: second_of_day % 60,
            // 1970-01-01 was a Thursday.
            weekday: (days + 4).rem_euclid(7),
        }
    }

    /// Go's `time.Date`: months and days past their end carry into the next month and year,
    /// and a wall-clock time a clock change skipped or repeated resolves as Go resolves it
    /// (the offset in force at the wall time read as UTC, corrected once).
    fn date(&self, year: i64, month: i64, day: i64, hour: i64, minute: i64, second: i64) -> i64 {
        let year = year + (month - 1).div_euclid(12);
        let month = (month - 1).rem_euclid(12) + 1;
        let days = days_from_civil(year, month, 1) + day - 1;
        let wall = days * 86_400 + hour * 3600 + minute * 60 + second;
        let guess = self.offset(wall);
        wall - self.offset(wall - guess)
    }
}

/// Days since 1970-01-01 of a date in the proleptic Gregorian calendar.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date (year, month, day) that is `days` after 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{messages, namespaced_meta, stored, valid_spec};
    use super::super::invalid_message;
    use super::*;
    use k8s_openapi::api::core::v1::PodTemplateSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

    fn at(stamp: &str) -> Timestamp {
        stamp.parse().expect("timestamp")
    }

    fn next_in(schedule: &str, after: &str, tz: &TimeZone) -> Option<Timestamp> {
        parse_schedule(schedule)
            .expect("schedule")
            .next_after(at(after), tz)
    }

    fn next(schedule: &str, after: &str) -> Timestamp {
        next_in(schedule, after, &TimeZone::UTC).expect("a next run")
    }

    fn error(schedule: &str) -> String {
        parse_schedule(schedule).expect_err("an invalid schedule")
    }

    #[test]
    fn fields_values_ranges_steps_and_lists() {
        assert_eq!(
            next("*/15 * * * *", "2024-05-01T10:07:30Z"),
            at("2024-05-01T10:15:00Z")
        );
        assert_eq!(
            next("? ? ? ? ?", "2024-05-01T10:00:30Z"),
            at("2024-05-01T10:01:00Z")
        );
        // 3 May 2024 was a Friday.
        assert_eq!(
            next("0 9-17 * * mon-fri", "2024-05-03T17:30:00Z"),
            at("2024-05-06T09:00:00Z")
        );
        assert_eq!(
            next("0 0 1,15 * *", "2024-05-01T00:00:00Z"),
            at("2024-05-15T00:00:00Z")
        );
        assert_eq!(
            next("10-30/10 * * * *", "2024-05-01T10:30:00Z"),
            at("2024-05-01T11:10:00Z")
        );
        // A value with a step runs to the end of the field: 5, 25, 45.
        assert_eq!(
            next("5/20 * * * *", "2024-05-01T10:46:00Z"),
            at("2024-05-01T11:05:00Z")
        );
        // Names in any case; 6 July 2024 was the first Saturday of July.
        assert_eq!(
            next("30 6 * jan,JUL Sat", "2024-05-01T00:00:00Z"),
            at("2024-07-06T06:30:00Z")
        );
        // Empty list items are skipped.
        assert_eq!(
            next("0,,30 * * * *", "2024-05-01T10:00:00Z"),
            at("2024-05-01T10:30:00Z")
        );
        // The start is exclusive, to the second.
        assert_eq!(
            next("* * * * *", "2024-05-01T10:00:59.5Z"),
            at("2024-05-01T10:01:00Z")
        );
    }

    #[test]
    fn descriptors() {
        let after = "2024-05-01T10:00:00Z";
        assert_eq!(next("@hourly", after), at("2024-05-01T11:00:00Z"));
        assert_eq!(next("@daily", after), at("2024-05-02T00:00:00Z"));
        assert_eq!(next("@midnight", after), at("2024-05-02T00:00:00Z"));
        assert_eq!(next("@weekly", after), at("2024-05-05T00:00:00Z"));
        assert_eq!(next("@monthly", after), at("2024-06-01T00:00:00Z"));
        assert_eq!(next("@yearly", after), at("2025-01-01T00:00:00Z"));
        assert_eq!(next("@annually", after), at("2025-01-01T00:00:00Z"));
        assert_eq!(
            error("@every 1h"),
            "@every is not supported, use a five-field schedule: @every 1h"
        );
        assert_eq!(error("@often"), "unrecognized descriptor: @often");
    }

    #[test]
    fn month_ends_and_leap_days() {
        assert_eq!(
            next("0 0 31 * *", "2024-01-31T00:00:00Z"),
            at("2024-03-31T00:00:00Z")
        );
        assert_eq!(
            next("0 0 31 * *", "2024-03-31T00:00:00Z"),
            at("2024-05-31T00:00:00Z")
        );
        assert_eq!(
            next("0 12 29 2 *", "2023-03-01T00:00:00Z"),
            at("2024-02-29T12:00:00Z")
        );
        assert_eq!(
            next("0 0 * * *", "2024-12-31T23:59:59Z"),
            at("2025-01-01T00:00:00Z")
        );
        assert_eq!(
            next("59 23 28-31 * *", "2023-02-27T00:00:00Z"),
            at("2023-02-28T23:59:00Z")
        );
        assert_eq!(
            next_in("0 0 30 2 *", "2024-01-01T00:00:00Z", &TimeZone::UTC),
            None
        );
    }

    #[test]
    fn restricted_days_of_month_and_week_either_match() {
        // 1 January 2024 was a Monday: Friday the 5th comes before the 13th.
        assert_eq!(
            next("0 0 13 * fri", "2024-01-01T00:00:00Z"),
            at("2024-01-05T00:00:00Z")
        );
        assert_eq!(
            next("0 0 13 * fri", "2024-01-12T00:00:00Z"),
            at("2024-01-13T00:00:00Z")
        );
        // With a star in one field, the other decides alone.
        assert_eq!(
            next("0 0 13 * *", "2024-01-01T00:00:00Z"),
            at("2024-01-13T00:00:00Z")
        );
        assert_eq!(
            next("0 0 */1 * fri", "2024-01-12T00:00:00Z"),
            at("2024-01-19T00:00:00Z")
        );
        // A star with a step above 1 counts as restricted: odd days or Fridays.
        assert_eq!(
            next("0 0 */2 * fri", "2024-01-01T00:00:00Z"),
            at("2024-01-03T00:00:00Z")
        );
    }

    #[test]
    fn daylight_saving_time_as_robfig_walks_it() {
        let new_york = TimeZone::posix("EST5EDT,M3.2.0,M11.1.0").expect("zone");
        // 02:30 does not exist on 10 March 2024: that day's run is skipped.
        assert_eq!(
            next_in("30 2 * * *", "2024-03-09T12:00:00Z", &new_york),
            Some(at("2024-03-11T06:30:00Z"))
        );
        assert_eq!(
            next_in("0 * * * *", "2024-03-10T06:30:00Z", &new_york),
            Some(at("2024-03-10T07:00:00Z"))
        );
        assert_eq!(
            next_in("0 0 * * *", "2024-03-09T06:00:00Z", &new_york),
            Some(at("2024-03-10T05:00:00Z"))
        );
        // 01:30 comes twice on 3 November 2024, and runs twice.
        assert_eq!(
            next_in("30 1 * * *", "2024-11-03T04:00:00Z", &new_york),
            Some(at("2024-11-03T05:30:00Z"))
        );
        assert_eq!(
            next_in("30 1 * * *", "2024-11-03T05:30:00Z", &new_york),
            Some(at("2024-11-03T06:30:00Z"))
        );
        // A zone in the schedule wins over the caller's.
        assert_eq!(
            next_in("CRON_TZ=UTC 0 0 * * *", "2024-03-09T06:00:00Z", &new_york),
            Some(at("2024-03-10T00:00:00Z"))
        );
    }

    #[test]
    fn parse_errors_read_as_robfig_words_them() {
        assert_eq!(error(""), "empty spec string");
        assert_eq!(
            error("* * * *"),
            "expected exactly 5 fields, found 4: [* * * *]"
        );
        assert_eq!(
            error("0 * * * * *"),
            "expected exactly 5 fields, found 6: [0 * * * * *]"
        );
        assert_eq!(
            error("61 * * * *"),
            "end of range (61) above maximum (59): 61"
        );
        assert_eq!(
            error("* * 0 * *"),
            "beginning of range (0) below minimum (1): 0"
        );
        assert_eq!(
            error("5-1 * * * *"),
            "beginning of range (5) beyond end of range (1): 5-1"
        );
        assert_eq!(
            error("*/0 * * * *"),
            "step of range should be a positive number: */0"
        );
        assert_eq!(error("1-2-3 * * * *"), "too many hyphens: 1-2-3");
        assert_eq!(error("*/2/3 * * * *"), "too many slashes: */2/3");
        assert_eq!(error("* * * * 7"), "end of range (7) above maximum (6): 7");
        assert_eq!(
            error("a * * * *"),
            "failed to parse int from a: strconv.Atoi: parsing \"a\": invalid syntax"
        );
        assert_eq!(
            error("*/-5 * * * *"),
            "negative number (-5) not allowed: -5"
        );
        assert_eq!(
            error("99999999999999999999 * * * *"),
            "failed to parse int from 99999999999999999999: strconv.Atoi: parsing \"99999999999999999999\": value out of range"
        );
        assert_eq!(
            error("* * * foo *"),
            "failed to parse int from foo: strconv.Atoi: parsing \"foo\": invalid syntax"
        );
        assert_eq!(
            error("TZ=Nowhere/Land * * * * *"),
            "provided bad location Nowhere/Land: unknown time zone Nowhere/Land"
        );
    }

    #[test]
    fn calendar_arithmetic_agrees_with_jiff() {
        for days in (-800_000..800_000).step_by(997) {
            let stamp = Timestamp::from_second(days * 86_400).expect("in range");
            let date = TimeZone::UTC.to_datetime(stamp);
            let (year, month, day) = civil_from_days(days);
            assert_eq!(
                (year, month, day),
                (
                    i64::from(date.year()),
                    i64::from(date.month()),
                    i64::from(date.day())
                )
            );
            assert_eq!(days_from_civil(year, month, day), days);
            assert_eq!(
                (days + 4).rem_euclid(7),
                i64::from(date.weekday().to_sunday_zero_offset())
            );
        }
    }

    /// The descheduler's CronJob, as defaulting leaves it.
    fn valid_cron_job() -> CronJob {
        let mut pod = valid_spec();
        pod.restart_policy = Some("Never".into());
        CronJob {
            metadata: namespaced_meta("descheduler-cronjob"),
            spec: Some(CronJobSpec {
                schedule: "*/2 * * * *".into(),
                concurrency_policy: Some("Forbid".into()),
                suspend: Some(false),
                successful_jobs_history_limit: Some(3),
                failed_jobs_history_limit: Some(1),
                job_template: JobTemplateSpec {
                    metadata: None,
                    spec: Some(JobSpec {
                        template: PodTemplateSpec {
                            metadata: Some(ObjectMeta {
                                name: Some("descheduler-pod".into()),
                                ..Default::default()
                            }),
                            spec: Some(pod),
                        },
                        ..Default::default()
                    }),
                },
                ..Default::default()
            }),
            status: None,
        }
    }

    fn spec_mut(cron_job: &mut CronJob) -> &mut CronJobSpec {
        cron_job.spec.as_mut().expect("spec")
    }

    fn job_spec_mut(cron_job: &mut CronJob) -> &mut JobSpec {
        spec_mut(cron_job)
            .job_template
            .spec
            .as_mut()
            .expect("job spec")
    }

    #[test]
    fn a_created_cron_job_is_valid() {
        assert!(cron_job(&valid_cron_job(), None).is_empty());
        let mut in_utc = valid_cron_job();
        spec_mut(&mut in_utc).time_zone = Some("UTC".into());
        spec_mut(&mut in_utc).schedule = "@daily".into();
        assert!(cron_job(&in_utc, None).is_empty());
    }

    #[test]
    fn names_leave_room_for_the_job_suffix() {
        let mut long = valid_cron_job();
        let name = "c".repeat(53);
        long.metadata.name = Some(name.clone());
        assert_eq!(
            messages(&cron_job(&long, None)),
            vec![format!(
                "metadata.name: Invalid value: \"{name}\": must be no more than 52 characters"
            )]
        );
        long.metadata = stored(long.metadata);
        assert!(cron_job(&long.clone(), Some(&long)).is_empty());
    }

    #[test]
    fn schedules_parse_and_name_no_zone() {
        let mut cj = valid_cron_job();
        spec_mut(&mut cj).schedule = "61 * * * *".into();
        assert_eq!(
            invalid_message(
                "CronJob",
                "batch",
                "descheduler-cronjob",
                &cron_job(&cj, None)
            ),
            "CronJob.batch \"descheduler-cronjob\" is invalid: spec.schedule: Invalid value: \"61 * * * *\": end of range (61) above maximum (59): 61"
        );
        spec_mut(&mut cj).schedule = "CRON_TZ=UTC * * * * *".into();
        assert_eq!(
            messages(&cron_job(&cj, None)),
            vec![
                "spec.schedule: Invalid value: \"CRON_TZ=UTC * * * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
            ]
        );
        spec_mut(&mut cj).schedule = String::new();
        assert_eq!(
            messages(&cron_job(&cj, None)),
            vec!["spec.schedule: Required value"]
        );
    }

    #[test]
    fn stored_zones_in_schedules_are_kept() {
        let mut old = valid_cron_job();
        old.metadata = stored(old.metadata);
        spec_mut(&mut old).schedule = "TZ=UTC 0 0 * * *".into();
        let mut new = old.clone();
        spec_mut(&mut new).suspend = Some(true);
        assert!(cron_job(&new, Some(&old)).is_empty());
        spec_mut(&mut new).time_zone = Some("UTC".into());
        assert_eq!(
            messages(&cron_job(&new, Some(&old))),
            vec![
                "spec.schedule: Invalid value: \"TZ=UTC 0 0 * * *\": cannot use both timeZone field and TZ or CRON_TZ in schedule"
            ]
        );
    }

    #[test]
    fn time_zones_are_known_and_explicit() {
        let mut cj = valid_cron_job();
        let cases = [
            (
                "Europe/Pariss",
                vec![
                    "spec.timeZone: Invalid value: \"Europe/Pariss\": unknown time zone Europe/Pariss",
                ],
            ),
            (
                "",
                vec![
                    "spec.timeZone: Invalid value: \"\": timeZone must be nil or non-empty string",
                ],
            ),
            (
                "../etc/passwd",
                vec![
                    "spec.timeZone: Invalid value: \"../etc/passwd\": unknown time zone ../etc/passwd",
                ],
            ),
            (
                "Local",
                vec![
                    "spec.timeZone: Invalid value: \"Local\": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
                ],
            ),
            (
                "local",
                vec![
                    "spec.timeZone: Invalid value: \"local\": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
                    "spec.timeZone: Invalid value: \"local\": unknown time zone local",
                ],
            ),
        ];
        for (zone, expected) in cases {
            spec_mut(&mut cj).time_zone = Some(zone.into());
            assert_eq!(messages(&cron_job(&cj, None)), expected, "{zone}");
        }
        if std::path::Path::new("/usr/share/zoneinfo/America/New_York").exists() {
            spec_mut(&mut cj).time_zone = Some("America/New_York".into());
            assert!(cron_job(&cj, None).is_empty());
            assert_eq!(
                time_zone("America/New_York").expect("zone").iana_name(),
                Some("America/New_York")
            );
            assert!(time_zone("america/new_york").is_err());
        }
    }

    #[test]
    fn policies_and_limits() {
        let mut cj = valid_cron_job();
        let spec = spec_mut(&mut cj);
        spec.concurrency_policy = Some("Sometimes".into());
        spec.starting_deadline_seconds = Some(-1);
        spec.successful_jobs_history_limit = Some(-1);
        spec.failed_jobs_history_limit = Some(-2);
        assert_eq!(
            messages(&cron_job(&cj, None)),
            vec![
                "spec.startingDeadlineSeconds: Invalid value: -1: must be greater than or equal to 0",
                "spec.concurrencyPolicy: Unsupported value: \"Sometimes\": supported values: \"Allow\", \"Forbid\", \"Replace\"",
                "spec.successfulJobsHistoryLimit: Invalid value: -1: must be greater than or equal to 0",
                "spec.failedJobsHistoryLimit: Invalid value: -2: must be greater than or equal to 0",
            ]
        );
    }

    #[test]
    fn job_templates_are_job_specs_without_selectors() {
        let mut cj = valid_cron_job();
        let job = job_spec_mut(&mut cj);
        job.backoff_limit = Some(-1);
        job.template.spec.as_mut().expect("pod").restart_policy = Some("Always".into());
        job.selector = Some(LabelSelector {
            match_labels: Some([("app".to_string(), "web".to_string())].into()),
            match_expressions: None,
        });
        job.manual_selector = Some(true);
        assert_eq!(
            messages(&cron_job(&cj, None)),
            vec![
                "spec.jobTemplate.spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0",
                "spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"",
                "spec.jobTemplate.spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: `selector` will be auto-generated",
                "spec.jobTemplate.spec.manualSelector: Unsupported value: true: supported values: \"nil\", \"false\"",
            ]
        );
    }
}
