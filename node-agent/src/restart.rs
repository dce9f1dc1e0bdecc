//! When an exited container runs again: upstream's restart policies and crash-loop back-off.
//! Pure functions of the container's last run and the clock, so a restarted agent reaches the
//! same decisions from what the runtime reports.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::PodSpec;

use crate::runtime::Termination;

/// The first back-off after a second exit; it doubles with each restart after that.
const INITIAL_BACKOFF: Duration = Duration::from_secs(10);
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// A container that ran this long before exiting starts again without back-off.
const BACKOFF_RESET: Duration = Duration::from_secs(10 * 60);

/// A pod's `restartPolicy`, as it applies to one kind of container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartPolicy {
    Always,
    OnFailure,
    Never,
}

impl RestartPolicy {
    /// The pod's policy for its main containers; upstream's default is Always.
    pub fn of(spec: &PodSpec) -> RestartPolicy {
        match spec.restart_policy.as_deref() {
            Some("OnFailure") => RestartPolicy::OnFailure,
            Some("Never") => RestartPolicy::Never,
            _ => RestartPolicy::Always,
        }
    }

    /// The policy for init containers: a failed one runs again unless the pod never restarts,
    /// a completed one never runs again.
    pub fn for_init(self) -> RestartPolicy {
        match self {
            RestartPolicy::Never => RestartPolicy::Never,
            RestartPolicy::Always | RestartPolicy::OnFailure => RestartPolicy::OnFailure,
        }
    }

    /// The policy for a container killed for failing a probe: upstream starts it again unless
    /// the pod never restarts, whatever its exit code.
    pub fn after_probe_kill(self) -> RestartPolicy {
        match self {
            RestartPolicy::Never => RestartPolicy::Never,
            RestartPolicy::Always | RestartPolicy::OnFailure => RestartPolicy::Always,
        }
    }

    fn restarts_after(self, exit_code: i32) -> bool {
        match self {
            RestartPolicy::Always => true,
            RestartPolicy::OnFailure => exit_code != 0,
            RestartPolicy::Never => false,
        }
    }
}

/// What happens to an exited container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Start the next attempt now.
    Restart,
    /// Start it once `remaining` has passed; `delay` is the whole back-off, as reported.
    BackOff {
        delay: Duration,
        remaining: Duration,
    },
    /// It stays exited.
    Stay,
}

/// Decides for a container whose instance number `attempt` ended with `termination`.
pub fn decide(
    policy: RestartPolicy,
    attempt: u32,
    termination: &Termination,
    now: Timestamp,
) -> Decision {
    if !policy.restarts_after(termination.exit_code) {
        return Decision::Stay;
    }
    let ran_for = elapsed(termination.started_at, termination.finished_at);
    let delay = backoff(attempt, ran_for);
    match delay.checked_sub(elapsed(termination.finished_at, now)) {
        Some(remaining) if !remaining.is_zero() => Decision::BackOff { delay, remaining },
        _ => Decision::Restart,
    }
}

/// How long a pull that failed `failures` times in a row, the last at `failed_at`, still
/// waits at `now` before the image is pulled again; `None` once it may be. Upstream's image
/// back-off: 10 s after the first failure, doubling up to 5 minutes.
pub fn pull_backoff(failures: u32, failed_at: Timestamp, now: Timestamp) -> Option<Duration> {
    doubling(failures)
        .checked_sub(elapsed(failed_at, now))
        .filter(|left| !left.is_zero())
}

/// Upstream's crash-loop back-off: the first restart is immediate, then 10 s doubling up to
/// 5 minutes, forgotten once a run lasts 10 minutes.
fn backoff(attempt: u32, ran_for: Duration) -> Duration {
    if ran_for >= BACKOFF_RESET {
        return Duration::ZERO;
    }
    doubling(attempt)
}

/// Nothing for `times` = 0, then 10 s doubling with each time up to 5 minutes.
fn doubling(times: u32) -> Duration {
    match times {
        0 => Duration::ZERO,
        _ => (INITIAL_BACKOFF * 2u32.pow((times - 1).min(16))).min(MAX_BACKOFF),
    }
}

/// The time from `from` to `to`, zero when the clock went backwards.
fn elapsed(from: Timestamp, to: Timestamp) -> Duration {
    Duration::try_from(to.duration_since(from)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::SignedDuration;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + seconds).unwrap()
    }

    fn ended(exit_code: i32, started: i64, finished: i64) -> Termination {
        Termination {
            container_id: "simulated://x".into(),
            exit_code,
            reason: "Error".into(),
            started_at: at(started),
            finished_at: at(finished),
        }
    }

    #[test]
    fn policies_decide_which_exits_restart() {
        let failed = ended(1, 0, 1);
        let completed = ended(0, 0, 1);
        let now = at(1);
        use RestartPolicy::*;
        assert_eq!(decide(Always, 0, &completed, now), Decision::Restart);
        assert_eq!(decide(OnFailure, 0, &failed, now), Decision::Restart);
        assert_eq!(decide(OnFailure, 0, &completed, now), Decision::Stay);
        assert_eq!(decide(Never, 0, &failed, now), Decision::Stay);
        assert_eq!(Always.for_init(), OnFailure);
        assert_eq!(Never.for_init(), Never);
        assert_eq!(OnFailure.after_probe_kill(), Always);
        assert_eq!(Never.after_probe_kill(), Never);
    }

    #[test]
    fn back_off_doubles_from_ten_seconds_to_five_minutes() {
        let delays: Vec<_> = (0..8)
            .map(|a| backoff(a, Duration::ZERO).as_secs())
            .collect();
        assert_eq!(delays, [0, 10, 20, 40, 80, 160, 300, 300]);
        assert_eq!(backoff(u32::MAX, Duration::ZERO), MAX_BACKOFF);
    }

    #[test]
    fn back_off_counts_from_the_exit_and_resets_after_a_long_run() {
        let crash = ended(1, 0, 5);
        assert_eq!(
            decide(RestartPolicy::Always, 3, &crash, at(15)),
            Decision::BackOff {
                delay: Duration::from_secs(40),
                remaining: Duration::from_secs(30)
            }
        );
        assert_eq!(
            decide(RestartPolicy::Always, 3, &crash, at(45)),
            Decision::Restart
        );
        let long_run = ended(1, 0, 600);
        assert_eq!(
            decide(RestartPolicy::Always, 3, &long_run, at(600)),
            Decision::Restart
        );
    }

    #[test]
    fn failed_pulls_wait_ten_seconds_doubling() {
        assert_eq!(pull_backoff(1, at(0), at(4)), Some(Duration::from_secs(6)));
        assert_eq!(pull_backoff(1, at(0), at(10)), None);
        assert_eq!(
            pull_backoff(3, at(0), at(10)),
            Some(Duration::from_secs(30))
        );
        assert_eq!(pull_backoff(0, at(0), at(0)), None);
    }

    #[test]
    fn a_clock_going_backwards_counts_as_no_time() {
        let later = at(100);
        assert_eq!(
            elapsed(later, later - SignedDuration::from_secs(5)),
            Duration::ZERO
        );
    }
}
