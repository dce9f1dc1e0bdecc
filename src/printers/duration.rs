//! Human-readable durations as kube-apiserver prints them in ages and job durations: "45s",
//! "2m30s", "3h", "5d4h", "2y100d". About two significant figures, coarser as time goes by.

use jiff::{SignedDuration, Timestamp};

const MINUTE: i64 = 60;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
const YEAR: i64 = 365 * DAY;

/// How long ago `time` was, or `<unknown>` when the object does not say.
pub(super) fn since(time: Option<Timestamp>, now: Timestamp) -> String {
    time.map_or_else(
        || "<unknown>".to_owned(),
        |time| human(now.duration_since(time)),
    )
}

/// The duration in upstream's `HumanDuration` form. A duration down to one second negative
/// counts as "0s", tolerating clocks slightly apart; anything more negative is `<invalid>`.
pub(crate) fn human(duration: SignedDuration) -> String {
    let seconds = duration.as_secs();
    if seconds < -1 {
        return "<invalid>".to_owned();
    }
    let seconds = seconds.max(0);
    let (minutes, hours, days) = (seconds / MINUTE, seconds / HOUR, seconds / DAY);
    match seconds {
        s if s < 2 * MINUTE => format!("{s}s"),
        s if s < 10 * MINUTE => two_units(minutes, "m", s % MINUTE, "s"),
        s if s < 3 * HOUR => format!("{minutes}m"),
        s if s < 8 * HOUR => two_units(hours, "h", minutes % 60, "m"),
        s if s < 2 * DAY => format!("{hours}h"),
        s if s < 8 * DAY => two_units(days, "d", hours % 24, "h"),
        s if s < 2 * YEAR => format!("{days}d"),
        s if s < 8 * YEAR => two_units(days / 365, "y", days % 365, "d"),
        _ => format!("{}y", days / 365),
    }
}

/// "5d4h", or just "5d" when the smaller unit is zero.
fn two_units(major: i64, major_unit: &str, minor: i64, minor_unit: &str) -> String {
    if minor == 0 {
        format!("{major}{major_unit}")
    } else {
        format!("{major}{major_unit}{minor}{minor_unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn human_secs(seconds: i64) -> String {
        human(SignedDuration::from_secs(seconds))
    }

    #[test]
    fn seconds_up_to_two_minutes() {
        assert_eq!(human_secs(0), "0s");
        assert_eq!(human_secs(45), "45s");
        assert_eq!(human_secs(119), "119s");
    }

    #[test]
    fn slight_clock_skew_is_now_and_more_is_invalid() {
        assert_eq!(human(SignedDuration::from_millis(-1_500)), "0s");
        assert_eq!(human_secs(-1), "0s");
        assert_eq!(human_secs(-2), "<invalid>");
    }

    #[test]
    fn minutes_with_seconds_below_ten_minutes() {
        assert_eq!(human_secs(120), "2m");
        assert_eq!(human_secs(150), "2m30s");
        assert_eq!(human_secs(9 * MINUTE + 59), "9m59s");
        assert_eq!(human_secs(10 * MINUTE + 30), "10m");
        assert_eq!(human_secs(3 * HOUR - 1), "179m");
    }

    #[test]
    fn hours_with_minutes_below_eight_hours() {
        assert_eq!(human_secs(3 * HOUR), "3h");
        assert_eq!(human_secs(5 * HOUR + 30 * MINUTE + 59), "5h30m");
        assert_eq!(human_secs(8 * HOUR + 30 * MINUTE), "8h");
        assert_eq!(human_secs(2 * DAY - 1), "47h");
    }

    #[test]
    fn days_with_hours_below_eight_days() {
        assert_eq!(human_secs(2 * DAY), "2d");
        assert_eq!(human_secs(3 * DAY + 4 * HOUR + 59 * MINUTE), "3d4h");
        assert_eq!(human_secs(8 * DAY + 5 * HOUR), "8d");
        assert_eq!(human_secs(2 * YEAR - 1), "729d");
    }

    #[test]
    fn years_with_days_below_eight_years() {
        assert_eq!(human_secs(2 * YEAR), "2y");
        assert_eq!(human_secs(2 * YEAR + 100 * DAY), "2y100d");
        assert_eq!(human_secs(8 * YEAR + 100 * DAY), "8y");
        assert_eq!(human_secs(12 * YEAR), "12y");
    }

    #[test]
    fn since_an_unset_time_is_unknown() {
        let now: Timestamp = "2025-01-01T12:00:00Z".parse().expect("valid timestamp");
        assert_eq!(since(None, now), "<unknown>");
        let earlier: Timestamp = "2024-12-30T08:00:00Z".parse().expect("valid timestamp");
        assert_eq!(since(Some(earlier), now), "2d4h");
    }
}
