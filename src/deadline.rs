//! Deadlines from numbers that come from outside: a request's `timeoutSeconds` or
//! `gracePeriodSeconds`, an object's `tolerationSeconds`, a flag. Any of them may be as large
//! as its type allows, and plain `+` on times panics on overflow, so every such deadline is
//! computed here, saturating at the farthest time that can be represented.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

/// The farthest a timer is ever set: about thirty years, as tokio's own "far future".
pub const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// `seconds` after `at`, or the last (or first) representable time when that is out of range.
pub fn after(at: Timestamp, seconds: i64) -> Timestamp {
    at.checked_add(SignedDuration::from_secs(seconds))
        .unwrap_or(if seconds < 0 {
            Timestamp::MIN
        } else {
            Timestamp::MAX
        })
}

/// `wait` from now as a timer's instant, [`FAR_FUTURE`] at most.
pub fn instant_after(wait: Duration) -> tokio::time::Instant {
    tokio::time::Instant::now() + wait.min(FAR_FUTURE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_and_negative_seconds_saturate() {
        let now = Timestamp::now();
        assert_eq!(after(now, i64::MAX), Timestamp::MAX);
        assert_eq!(after(now, i64::MIN), Timestamp::MIN);
        assert_eq!(after(now, 30), now + SignedDuration::from_secs(30));
    }

    #[tokio::test(start_paused = true)]
    async fn a_timer_for_ever_is_set_far_ahead() {
        let now = tokio::time::Instant::now();
        assert_eq!(instant_after(Duration::MAX) - now, FAR_FUTURE);
        assert_eq!(
            instant_after(Duration::from_secs(5)) - now,
            Duration::from_secs(5)
        );
    }
}
