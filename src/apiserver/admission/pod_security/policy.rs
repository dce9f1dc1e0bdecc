//! A namespace's Pod Security policy: the level and version of each mode, read from its
//! `pod-security.kubernetes.io/` labels as upstream's `api.PolicyToEvaluate` reads them, with
//! upstream's defaults when no PodSecurityConfiguration says otherwise (every mode
//! `privileged:latest`).

use std::fmt;

use serde_json::Value;

use crate::validation::{FieldError, Path};

const ENFORCE_LEVEL: &str = "pod-security.kubernetes.io/enforce";
const ENFORCE_VERSION: &str = "pod-security.kubernetes.io/enforce-version";
const AUDIT_LEVEL: &str = "pod-security.kubernetes.io/audit";
const AUDIT_VERSION: &str = "pod-security.kubernetes.io/audit-version";
const WARN_LEVEL: &str = "pod-security.kubernetes.io/warn";
const WARN_VERSION: &str = "pod-security.kubernetes.io/warn-version";

const LEVEL_ERROR: &str = "must be one of privileged, baseline, restricted";
const VERSION_ERROR: &str = "must be \"latest\" or \"v1.x\"";

/// The policy version `latest` stands for: this server's own minor version, whose checks a
/// newer pin gets too.
const LATEST_MINOR: u32 = 33;

/// A Pod Security Standard, least strict first (upstream's `CompareLevels` order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Privileged,
    Baseline,
    Restricted,
}

impl Level {
    fn parse(value: &str) -> Option<Level> {
        match value {
            "privileged" => Some(Level::Privileged),
            "baseline" => Some(Level::Baseline),
            "restricted" => Some(Level::Restricted),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }
}

/// The version of the standards a level is held to: `latest`, or `v1.N` as the standards
/// stood in Kubernetes 1.N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Latest,
    V1(u64),
}

impl Version {
    /// Upstream's `ParseVersion`: `latest`, or `v1.` and a minor without leading zeros.
    fn parse(value: &str) -> Option<Version> {
        if value == "latest" {
            return Some(Version::Latest);
        }
        let minor = value.strip_prefix("v1.")?;
        let digits = !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit());
        if !digits || (minor.len() > 1 && minor.starts_with('0')) {
            return None;
        }
        minor.parse().ok().map(Version::V1)
    }

    /// The minor version whose checks apply: `latest`, and any pin past it, are this
    /// server's.
    pub fn minor(self) -> u32 {
        match self {
            Version::Latest => LATEST_MINOR,
            Version::V1(minor) => {
                u32::try_from(minor).map_or(LATEST_MINOR, |m| m.min(LATEST_MINOR))
            }
        }
    }
}

/// A level at a version, written as upstream writes it: `restricted:latest`, `baseline:v1.25`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelVersion {
    pub level: Level,
    pub version: Version,
}

impl fmt::Display for LevelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.level.name())?;
        match self.version {
            Version::Latest => f.write_str(":latest"),
            Version::V1(minor) => write!(f, ":v1.{minor}"),
        }
    }
}

/// What a namespace holds pods to (`enforce`) and warns about (`warn`). Its `audit` mode is
/// read only for its labels' errors: there is no audit log to write to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub enforce: LevelVersion,
    pub warn: LevelVersion,
}

impl Policy {
    /// The policy a namespace's `labels` say, and an error for each label that names no
    /// level or version. A policy is always had: an enforce level that cannot be read is
    /// `restricted`, a warn (or audit) level `privileged`, a version `latest`. A namespace
    /// that enforces a level is warned at it too unless its labels say otherwise.
    pub fn from_labels(labels: &Value) -> (Policy, Vec<FieldError>) {
        let mut reader = Reader {
            labels,
            errors: Vec::new(),
        };
        let enforce_level = reader.read(ENFORCE_LEVEL, Level::parse, LEVEL_ERROR);
        let enforce_version = reader.read(ENFORCE_VERSION, Version::parse, VERSION_ERROR);
        reader.read(AUDIT_LEVEL, Level::parse, LEVEL_ERROR);
        reader.read(AUDIT_VERSION, Version::parse, VERSION_ERROR);
        let warn_level = reader.read(WARN_LEVEL, Level::parse, LEVEL_ERROR);
        let warn_version = reader.read(WARN_VERSION, Version::parse, VERSION_ERROR);
        let enforce = LevelVersion {
            level: enforce_level.map_or(Level::Privileged, |l| l.unwrap_or(Level::Restricted)),
            version: enforce_version.flatten().unwrap_or(Version::Latest),
        };
        let mut warn = LevelVersion {
            level: warn_level.flatten().unwrap_or(Level::Privileged),
            version: warn_version.flatten().unwrap_or(Version::Latest),
        };
        let enforce_named = matches!(enforce_level, Some(Some(_)));
        if warn_level.is_none() && enforce_named && enforce.level > warn.level {
            warn.level = enforce.level;
            if warn_version.is_none() {
                warn.version = enforce.version;
            }
        }
        (Policy { enforce, warn }, reader.errors)
    }
}

/// Reads the policy labels, keeping an error for each value that cannot be read.
struct Reader<'a> {
    labels: &'a Value,
    errors: Vec<FieldError>,
}

impl Reader<'_> {
    /// What label `key` says, none when it is absent: `parse`'s reading, or none within (and
    /// an error) when the value cannot be read.
    fn read<T>(
        &mut self,
        key: &str,
        parse: fn(&str) -> Option<T>,
        error: &str,
    ) -> Option<Option<T>> {
        let labels = self.labels;
        let value = labels[key].as_str()?;
        let parsed = parse(value);
        if parsed.is_none() {
            let path = Path::new("metadata").child("labels").key(key);
            self.errors.push(FieldError::invalid(&path, value, error));
        }
        Some(parsed)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn policy(labels: Value) -> Policy {
        let (policy, errors) = Policy::from_labels(&labels);
        assert!(errors.is_empty(), "{errors:?}");
        policy
    }

    #[test]
    fn no_labels_is_privileged_latest_everywhere() {
        let policy = policy(Value::Null);
        assert_eq!(policy.enforce.to_string(), "privileged:latest");
        assert_eq!(policy.warn.to_string(), "privileged:latest");
    }

    #[test]
    fn an_enforced_level_is_warned_at_unless_warn_is_set() {
        let enforced = policy(json!({ENFORCE_LEVEL: "restricted", ENFORCE_VERSION: "v1.25"}));
        assert_eq!(enforced.enforce.to_string(), "restricted:v1.25");
        assert_eq!(enforced.warn.to_string(), "restricted:v1.25");
        let warned = policy(json!({ENFORCE_LEVEL: "baseline", WARN_LEVEL: "privileged"}));
        assert_eq!(warned.warn.to_string(), "privileged:latest");
        let pinned = policy(json!({ENFORCE_LEVEL: "baseline", WARN_VERSION: "v1.30"}));
        assert_eq!(pinned.warn.to_string(), "baseline:v1.30");
    }

    #[test]
    fn unreadable_labels_are_errors_and_fail_closed_for_enforce_only() {
        let labels =
            json!({ENFORCE_LEVEL: "strict", WARN_LEVEL: "loud", ENFORCE_VERSION: "v1.025"});
        let (policy, errors) = Policy::from_labels(&labels);
        assert_eq!(policy.enforce.to_string(), "restricted:latest");
        assert_eq!(policy.warn.to_string(), "privileged:latest");
        let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            errors,
            [
                "metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: \"strict\": must be one of privileged, baseline, restricted",
                "metadata.labels[pod-security.kubernetes.io/enforce-version]: Invalid value: \"v1.025\": must be \"latest\" or \"v1.x\"",
                "metadata.labels[pod-security.kubernetes.io/warn]: Invalid value: \"loud\": must be one of privileged, baseline, restricted",
            ]
        );
    }

    #[test]
    fn versions_parse_as_upstream_and_pins_past_latest_are_latest() {
        assert_eq!(Version::parse("v1.0"), Some(Version::V1(0)));
        assert_eq!(Version::parse("v1.25"), Some(Version::V1(25)));
        for bad in ["v1.", "v1.05", "v2.1", "1.25", "v1.2x", "Latest"] {
            assert_eq!(Version::parse(bad), None, "{bad}");
        }
        assert_eq!(Version::V1(40).minor(), LATEST_MINOR);
        assert_eq!(Version::Latest.minor(), LATEST_MINOR);
    }
}
