//! Spacing the reconciles of one object: a ReplicaSet with ten thousand pods is triggered by
//! every change of every pod, and each reconcile looks at all of them. Reconciling it at most
//! once per interval keeps that work bounded while every change is still taken into account
//! by the next reconcile, which the controller schedules for the end of the interval.
//!
//! Objects are paced by UID, so one created again under the same name is not held back by its
//! predecessor; entries past their interval, which say nothing any more, are dropped each
//! minute, so those of deleted objects do not pile up.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

pub struct Pace {
    interval: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    last: HashMap<String, Instant>,
    /// When entries past their interval were last dropped.
    swept: Option<Instant>,
}

/// How often entries past their interval are dropped.
const SWEEP: Duration = Duration::from_secs(60);

impl Pace {
    pub fn new(interval: Duration) -> Pace {
        Pace {
            interval,
            state: Mutex::default(),
        }
    }

    /// `None` if `key` may be reconciled now (and records that it is), else how long to wait.
    pub fn check(&self, key: &str) -> Option<Duration> {
        let now = Instant::now();
        let mut state = self.state.lock().ok()?;
        if state.swept.is_none_or(|at| now.duration_since(at) >= SWEEP) {
            let interval = self.interval;
            state
                .last
                .retain(|_, at| now.duration_since(*at) < interval);
            state.swept = Some(now);
        }
        if let Some(previous) = state.last.get(key) {
            let since = now.duration_since(*previous);
            if since < self.interval {
                return Some(self.interval - since);
            }
        }
        state.last.insert(key.to_owned(), now);
        None
    }

    /// Forgets a key whose object is gone.
    pub fn forget(&self, key: &str) {
        if let Ok(mut state) = self.state.lock() {
            state.last.remove(key);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.state.lock().map_or(0, |s| s.last.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_key_waits_out_the_interval_and_others_do_not() {
        let pace = Pace::new(Duration::from_millis(100));
        assert_eq!(pace.check("a"), None);
        assert_eq!(pace.check("b"), None);
        tokio::time::advance(Duration::from_millis(30)).await;
        assert_eq!(pace.check("a"), Some(Duration::from_millis(70)));
        tokio::time::advance(Duration::from_millis(70)).await;
        assert_eq!(pace.check("a"), None);
        pace.forget("a");
        assert_eq!(pace.check("a"), None);
    }

    #[tokio::test(start_paused = true)]
    async fn keys_past_their_interval_are_swept_away() {
        let pace = Pace::new(Duration::from_millis(100));
        assert_eq!(pace.check("gone"), None);
        tokio::time::advance(SWEEP).await;
        assert_eq!(pace.check("other"), None);
        assert_eq!(pace.len(), 1, "only the key just checked is left");
    }
}
