//! The one rule pod and node conditions share: a condition's `lastTransitionTime` moves only
//! when its status changes.

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// The transition time of a condition now `status`, given the previous one's status and time.
pub fn since(previous: Option<(&str, Option<&Time>)>, status: &str, now: Timestamp) -> Time {
    match previous {
        Some((old, Some(time))) if old == status => time.clone(),
        _ => Time(now),
    }
}

/// `"True"` or `"False"`, as conditions spell them.
pub fn status(value: bool) -> &'static str {
    if value { "True" } else { "False" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_moves_only_with_the_status() {
        let then = Time(Timestamp::from_second(1_000).unwrap());
        let now = Timestamp::from_second(2_000).unwrap();
        assert_eq!(since(Some(("True", Some(&then))), "True", now), then);
        assert_eq!(since(Some(("True", Some(&then))), "False", now), Time(now));
        assert_eq!(since(Some(("True", None)), "True", now), Time(now));
        assert_eq!(since(None, "True", now), Time(now));
    }
}
