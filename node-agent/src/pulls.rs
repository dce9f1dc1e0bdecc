//! Images that could not be pulled, per pod and container: how many pulls failed in a row and
//! when the last did, so pod sync waits out upstream's image back-off before pulling again and
//! status reports the container waiting in ErrImagePull (after a sync whose pull failed) or
//! ImagePullBackOff (after a sync that waited), as upstream's reason cache does. The agent
//! keeps them, not the runtime, which knows no back-off; a restarted agent pulls again at once.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use jiff::Timestamp;

use crate::restart;

/// The failed pulls of one pod, by container name.
pub type PodPulls = HashMap<String, PullFailure>;

/// The last failed pull of one container's image.
#[derive(Debug, Clone, PartialEq)]
pub struct PullFailure {
    pub image: String,
    /// What the runtime said.
    pub message: String,
    /// Failed pulls in a row.
    pub failures: u32,
    pub failed_at: Timestamp,
    /// A sync since the failure waited out the back-off instead of pulling.
    pub waited: bool,
}

impl PullFailure {
    /// How long the next pull still waits at `now`; `None` once it may be tried.
    pub fn backoff_left(&self, now: Timestamp) -> Option<Duration> {
        restart::pull_backoff(self.failures, self.failed_at, now)
    }

    /// The container's waiting reason and message, as upstream words them.
    pub fn waiting(&self) -> (&'static str, String) {
        if self.waited {
            (
                "ImagePullBackOff",
                format!("Back-off pulling image {:?}", self.image),
            )
        } else {
            ("ErrImagePull", self.message.clone())
        }
    }
}

/// The failed pulls of one node's pods, by pod UID.
#[derive(Debug, Default)]
pub struct PullFailures {
    pods: Mutex<HashMap<String, PodPulls>>,
}

impl PullFailures {
    /// The failed pulls of one pod, as they stand.
    pub fn pod(&self, uid: &str) -> PodPulls {
        self.lock().get(uid).cloned().unwrap_or_default()
    }

    /// A sync of the pod begins at `now`: the pulls still backing off are waited out by it.
    pub fn begin_sync(&self, uid: &str, now: Timestamp) {
        if let Some(pulls) = self.lock().get_mut(uid) {
            for failure in pulls.values_mut() {
                failure.waited |= failure.backoff_left(now).is_some();
            }
        }
    }

    /// A pull of `image` for `container` failed at `now`.
    pub fn failed(&self, uid: &str, container: &str, image: &str, message: &str, now: Timestamp) {
        let mut pods = self.lock();
        let pulls = pods.entry(uid.to_owned()).or_default();
        let before = pulls
            .get(container)
            .filter(|f| f.image == image)
            .map_or(0, |f| f.failures);
        pulls.insert(
            container.to_owned(),
            PullFailure {
                image: image.to_owned(),
                message: message.to_owned(),
                failures: before.saturating_add(1),
                failed_at: now,
                waited: false,
            },
        );
    }

    /// The container started: its image is there.
    pub fn started(&self, uid: &str, container: &str) {
        let mut pods = self.lock();
        if let Some(pulls) = pods.get_mut(uid) {
            pulls.remove(container);
            if pulls.is_empty() {
                pods.remove(uid);
            }
        }
    }

    /// The pod is gone or done.
    pub fn forget(&self, uid: &str) {
        self.lock().remove(uid);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, PodPulls>> {
        self.pods.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + seconds).unwrap()
    }

    #[test]
    fn a_failed_pull_waits_then_backs_off_longer_each_time() {
        let pulls = PullFailures::default();
        pulls.failed("u", "web", "nginx", "no registry", at(0));
        let failure = &pulls.pod("u")["web"];
        assert_eq!(failure.waiting(), ("ErrImagePull", "no registry".into()));
        assert_eq!(failure.backoff_left(at(4)), Some(Duration::from_secs(6)));

        pulls.begin_sync("u", at(4));
        assert_eq!(pulls.pod("u")["web"].waiting().0, "ImagePullBackOff");
        pulls.failed("u", "web", "nginx", "no registry", at(10));
        let again = &pulls.pod("u")["web"];
        assert_eq!((again.failures, again.waited), (2, false));
        assert_eq!(again.backoff_left(at(10)), Some(Duration::from_secs(20)));

        pulls.failed("u", "web", "nginx:2", "no registry", at(11));
        assert_eq!(pulls.pod("u")["web"].failures, 1);
        pulls.started("u", "web");
        assert!(pulls.pod("u").is_empty());
    }
}
