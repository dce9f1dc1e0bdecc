//! The query parameters of resource requests, read once into typed options. Parameters that
//! repeat keep their last value; unknown ones are ignored, as upstream ignores them.

use super::ApiError;
use super::codec::IncludeObject;

/// How strictly fields the kind does not know are treated (`fieldValidation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldValidation {
    Ignore,
    #[default]
    Warn,
    Strict,
}

/// Every query parameter mkc reads.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
    pub limit: Option<usize>,
    pub continue_token: Option<String>,
    pub resource_version: Option<String>,
    pub resource_version_match: Option<String>,
    pub watch: bool,
    pub allow_watch_bookmarks: bool,
    pub send_initial_events: bool,
    pub timeout_seconds: Option<u64>,
    pub dry_run: bool,
    pub field_manager: Option<String>,
    pub field_validation: FieldValidation,
    pub force: bool,
    pub grace_period_seconds: Option<i64>,
    pub propagation_policy: Option<String>,
    pub orphan_dependents: Option<bool>,
    pub include_object: Option<IncludeObject>,
    /// `pretty`, read as Go's ParseBool reads it (an unreadable value is false, as upstream).
    pub pretty: Option<bool>,
    pub log: LogParams,
}

/// The parameters of `pods/<name>/log`.
#[derive(Debug, Clone, Default)]
pub struct LogParams {
    pub container: Option<String>,
    pub follow: bool,
    pub previous: bool,
    pub timestamps: bool,
    pub tail_lines: Option<i64>,
    pub since_seconds: Option<i64>,
    pub limit_bytes: Option<i64>,
}

impl Params {
    pub fn parse(query: Option<&str>) -> Result<Params, ApiError> {
        let mut params = Params::default();
        for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            params.set(&key, value.into_owned())?;
        }
        Ok(params)
    }

    fn set(&mut self, key: &str, value: String) -> Result<(), ApiError> {
        match key {
            "labelSelector" => self.label_selector = Some(value),
            "fieldSelector" => self.field_selector = Some(value),
            "limit" => self.limit = number::<usize>(key, &value)?.filter(|n| *n > 0),
            "continue" => self.continue_token = Some(value).filter(|v| !v.is_empty()),
            "resourceVersion" => self.resource_version = Some(value).filter(|v| !v.is_empty()),
            "resourceVersionMatch" => self.resource_version_match = Some(value),
            "watch" => self.watch = flag(&value),
            "allowWatchBookmarks" => self.allow_watch_bookmarks = flag(&value),
            "sendInitialEvents" => self.send_initial_events = flag(&value),
            "timeoutSeconds" => self.timeout_seconds = number(key, &value)?,
            "dryRun" => self.dry_run = value == "All",
            "fieldManager" => self.field_manager = Some(value),
            "fieldValidation" => self.field_validation = field_validation(&value)?,
            "force" => self.force = flag(&value),
            "gracePeriodSeconds" => self.grace_period_seconds = number(key, &value)?,
            "propagationPolicy" => self.propagation_policy = Some(value),
            "orphanDependents" => self.orphan_dependents = Some(flag(&value)),
            "includeObject" => self.include_object = Some(include_object(&value)?),
            "pretty" => {
                self.pretty = Some(value)
                    .filter(|v| !v.is_empty())
                    .map(|v| matches!(v.as_str(), "1" | "t" | "T" | "TRUE" | "true" | "True"))
            }
            "container" => self.log.container = Some(value),
            "follow" => self.log.follow = flag(&value),
            "previous" => self.log.previous = flag(&value),
            "timestamps" => self.log.timestamps = flag(&value),
            "tailLines" => self.log.tail_lines = number(key, &value)?,
            "sinceSeconds" => self.log.since_seconds = number(key, &value)?,
            "limitBytes" => self.log.limit_bytes = number(key, &value)?,
            _ => {}
        }
        Ok(())
    }
}

fn flag(value: &str) -> bool {
    matches!(value, "true" | "1" | "True")
}

fn number<T: std::str::FromStr>(key: &str, value: &str) -> Result<Option<T>, ApiError> {
    if value.is_empty() {
        return Ok(None);
    }
    value.parse().map(Some).map_err(|_| {
        ApiError::BadRequest(format!(
            "invalid value for {key}: {value:?} is not a number"
        ))
    })
}

fn field_validation(value: &str) -> Result<FieldValidation, ApiError> {
    match value {
        "Ignore" => Ok(FieldValidation::Ignore),
        "Warn" | "" => Ok(FieldValidation::Warn),
        "Strict" => Ok(FieldValidation::Strict),
        other => Err(ApiError::BadRequest(format!(
            "fieldValidation parameter unsupported: {other}; must be one of: Ignore, Warn, Strict"
        ))),
    }
}

fn include_object(value: &str) -> Result<IncludeObject, ApiError> {
    match value {
        "None" => Ok(IncludeObject::None),
        "Metadata" | "" => Ok(IncludeObject::Metadata),
        "Object" => Ok(IncludeObject::Object),
        other => Err(ApiError::BadRequest(format!(
            "includeObject: Unsupported value: {other:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_kubectl_and_kube_rs_queries() {
        let p = Params::parse(Some(
            "&labelSelector=app%3Dweb&limit=500&watch=1&timeoutSeconds=30&fieldValidation=Strict",
        ))
        .unwrap();
        assert_eq!(p.label_selector.as_deref(), Some("app=web"));
        assert_eq!(
            (p.limit, p.watch, p.timeout_seconds),
            (Some(500), true, Some(30))
        );
        assert_eq!(p.field_validation, FieldValidation::Strict);
        let p = Params::parse(Some("dryRun=All&gracePeriodSeconds=0&resourceVersion=")).unwrap();
        assert!(p.dry_run);
        assert_eq!(p.grace_period_seconds, Some(0));
        assert_eq!(p.resource_version, None);
    }

    #[test]
    fn refuses_malformed_numbers_and_modes() {
        assert!(Params::parse(Some("limit=ten")).is_err());
        assert!(Params::parse(Some("fieldValidation=Loose")).is_err());
    }
}
