//! One probe of one container instance, run every period as upstream's probe worker runs it:
//! not before `initialDelaySeconds` after the container started, liveness and readiness not
//! before the startup probe succeeded, a verdict only after `successThreshold` successes or
//! `failureThreshold` failures in a row, and an `Unhealthy` event for each failed run.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures::channel::mpsc;
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::reflector::ObjectRef;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::check::ProbeError;
use super::{Kind, Settings, Verdict, Verdicts};
use crate::events::{Note, Recorder, Subject};

/// How one run of a probe went.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Success,
    /// It failed, saying why.
    Failure(String),
    /// It could not run; the run counts for nothing.
    Error(ProbeError),
}

/// Runs a probe once; what a worker repeats.
pub trait Check: Send + Sync + 'static {
    fn run(&self, timeout: Duration) -> impl Future<Output = Outcome> + Send;
}

/// Where a worker's conclusions go: the verdicts pod sync reads, pod sync itself (woken when
/// one changes), and the pod's events.
pub struct Reporting {
    pub verdicts: Arc<Mutex<Verdicts>>,
    pub wake: mpsc::UnboundedSender<ObjectRef<Pod>>,
    pub pod: ObjectRef<Pod>,
    pub events: Recorder,
    /// The container, as its events name it.
    pub subject: Subject,
}

/// One probe of one container instance.
pub struct Worker<C> {
    pub kind: Kind,
    pub settings: Settings,
    pub check: C,
    /// How long until the first run: what is left of the initial delay.
    pub first_after: Duration,
    pub reporting: Reporting,
    pub stop: CancellationToken,
}

/// The current run of equal results, upstream's lastResult and resultRun.
#[derive(Debug, Default)]
pub struct Tally {
    last: Option<bool>,
    run: u32,
}

impl Tally {
    /// Counts one result; the verdict it settles when the run reaches its threshold.
    pub fn count(&mut self, success: bool, settings: &Settings) -> Option<Verdict> {
        if self.last == Some(success) {
            self.run = self.run.saturating_add(1);
        } else {
            self.last = Some(success);
            self.run = 1;
        }
        match success {
            true if self.run >= settings.success_threshold => Some(Verdict::Success),
            false if self.run >= settings.failure_threshold => Some(Verdict::Failure),
            _ => None,
        }
    }
}

impl<C: Check> Worker<C> {
    /// Probes until stopped, or until there is nothing left to decide: a startup probe ends
    /// once it succeeds or fails, a liveness probe once it fails (the container is killed and
    /// its next instance gets workers of its own).
    pub async fn run(self) {
        tokio::select! {
            () = self.stop.cancelled() => return,
            () = tokio::time::sleep(self.first_after) => {}
        }
        let mut ticks = tokio::time::interval(self.settings.period);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut tally = Tally::default();
        loop {
            tokio::select! {
                () = self.stop.cancelled() => return,
                _ = ticks.tick() => {}
            }
            if self.kind != Kind::Startup && !self.verdicts().started() {
                continue;
            }
            let outcome = tokio::select! {
                () = self.stop.cancelled() => return,
                outcome = self.check.run(self.settings.timeout) => outcome,
            };
            let success = match outcome {
                Outcome::Success => true,
                Outcome::Failure(output) => {
                    self.unhealthy(format!("{} probe failed: {output}", self.kind.title()));
                    false
                }
                Outcome::Error(error) => {
                    self.unhealthy(format!("{} probe errored: {error}", self.kind.title()));
                    continue;
                }
            };
            let Some(verdict) = tally.count(success, &self.settings) else {
                continue;
            };
            self.conclude(verdict);
            let done = match self.kind {
                Kind::Startup => true,
                Kind::Liveness => verdict == Verdict::Failure,
                Kind::Readiness => false,
            };
            if done {
                return;
            }
        }
    }

    fn verdicts(&self) -> MutexGuard<'_, Verdicts> {
        lock(&self.reporting.verdicts)
    }

    /// Sets the verdict, and wakes pod sync when it changed.
    fn conclude(&self, verdict: Verdict) {
        if self.verdicts().set(self.kind, verdict) {
            // A closed channel means pod sync has stopped: the agent is shutting down.
            let _ = self
                .reporting
                .wake
                .unbounded_send(self.reporting.pod.clone());
        }
    }

    fn unhealthy(&self, message: String) {
        let note = Note::warning(&self.reporting.subject, "Unhealthy", message);
        self.reporting.events.record(note);
    }
}

pub fn lock(verdicts: &Mutex<Verdicts>) -> MutexGuard<'_, Verdicts> {
    verdicts.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Kind as EventKind;
    use std::collections::VecDeque;
    use std::sync::atomic::{AtomicU32, Ordering};
    use tokio::time::Instant;

    /// A check that answers from a script, then keeps answering its last answer.
    #[derive(Clone, Default)]
    struct Scripted {
        answers: Arc<Mutex<VecDeque<bool>>>,
        runs: Arc<AtomicU32>,
    }

    impl Scripted {
        fn new(answers: &[bool]) -> Scripted {
            Scripted {
                answers: Arc::new(Mutex::new(answers.iter().copied().collect())),
                runs: Arc::default(),
            }
        }

        fn runs(&self) -> u32 {
            self.runs.load(Ordering::SeqCst)
        }
    }

    impl Check for Scripted {
        async fn run(&self, _timeout: Duration) -> Outcome {
            self.runs.fetch_add(1, Ordering::SeqCst);
            let mut answers = self.answers.lock().unwrap();
            let answer = match answers.len() {
                0 => true,
                1 => answers[0],
                _ => answers.pop_front().unwrap_or(true),
            };
            if answer {
                Outcome::Success
            } else {
                Outcome::Failure("connection refused".into())
            }
        }
    }

    fn settings(success: u32, failure: u32) -> Settings {
        Settings {
            initial_delay: Duration::ZERO,
            period: Duration::from_secs(10),
            timeout: Duration::from_secs(1),
            success_threshold: success,
            failure_threshold: failure,
        }
    }

    /// What the workers of one container share, and what they report.
    struct Harness {
        verdicts: Arc<Mutex<Verdicts>>,
        wakes: mpsc::UnboundedReceiver<ObjectRef<Pod>>,
        wake: mpsc::UnboundedSender<ObjectRef<Pod>>,
        events: Recorder,
        notes: tokio::sync::mpsc::Receiver<Note>,
        stop: CancellationToken,
        began: Instant,
    }

    impl Harness {
        fn new(kinds: &[Kind]) -> Harness {
            let (wake, wakes) = mpsc::unbounded();
            let (events, notes) = Recorder::queue(64);
            Harness {
                verdicts: Arc::new(Mutex::new(Verdicts::new("docker://1", kinds))),
                wakes,
                wake,
                events,
                notes,
                stop: CancellationToken::new(),
                began: Instant::now(),
            }
        }

        fn spawn(&self, kind: Kind, settings: Settings, check: impl Check) {
            let pod: Pod = serde_json::from_value(serde_json::json!({
                "metadata": {"name": "web", "namespace": "default", "uid": "u"},
            }))
            .unwrap();
            let worker = Worker {
                kind,
                first_after: settings.initial_delay,
                settings,
                check,
                reporting: Reporting {
                    verdicts: self.verdicts.clone(),
                    wake: self.wake.clone(),
                    pod: ObjectRef::new("web").within("default"),
                    events: self.events.clone(),
                    subject: Subject::pod(&pod, "node-1"),
                },
                stop: self.stop.clone(),
            };
            tokio::spawn(worker.run());
        }

        /// Lets the paused clock run to `seconds` after the start.
        async fn at(&self, seconds: f64) {
            tokio::time::sleep_until(self.began + Duration::from_secs_f64(seconds)).await;
        }

        fn verdict(&self, kind: Kind) -> Option<Verdict> {
            lock(&self.verdicts).get(kind)
        }

        fn woken(&mut self) -> usize {
            std::iter::from_fn(|| self.wakes.try_recv().ok()).count()
        }

        fn notes(&mut self) -> Vec<String> {
            std::iter::from_fn(|| self.notes.try_recv().ok())
                .map(|note| {
                    assert_eq!(note.kind, EventKind::Warning);
                    format!("{}: {}", note.reason, note.message)
                })
                .collect()
        }
    }

    #[test]
    fn a_verdict_takes_its_threshold_of_results_in_a_row() {
        let settings = settings(2, 3);
        let mut tally = Tally::default();
        let results: Vec<_> = [true, false, true, true, true, false, false, false]
            .into_iter()
            .map(|success| tally.count(success, &settings))
            .collect();
        use Verdict::{Failure, Success};
        assert_eq!(
            results,
            [
                None,
                None,
                None,
                Some(Success),
                Some(Success),
                None,
                None,
                Some(Failure)
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn readiness_waits_out_the_initial_delay_and_follows_its_thresholds() {
        let mut h = Harness::new(&[Kind::Readiness]);
        let check = Scripted::new(&[true, true, false, false, false, true]);
        let settings = Settings {
            initial_delay: Duration::from_secs(5),
            ..settings(2, 3)
        };
        h.spawn(Kind::Readiness, settings, check.clone());
        h.at(4.5).await;
        assert_eq!(check.runs(), 0);
        assert_eq!(h.verdict(Kind::Readiness), Some(Verdict::Failure));
        h.at(5.5).await;
        assert_eq!(check.runs(), 1);
        assert_eq!(h.verdict(Kind::Readiness), Some(Verdict::Failure));
        h.at(15.5).await;
        assert_eq!(h.verdict(Kind::Readiness), Some(Verdict::Success));
        assert_eq!(h.woken(), 1);
        // Two failures are below the threshold; the third decides.
        h.at(35.5).await;
        assert_eq!(h.verdict(Kind::Readiness), Some(Verdict::Success));
        h.at(45.5).await;
        assert_eq!(check.runs(), 5);
        assert_eq!(h.verdict(Kind::Readiness), Some(Verdict::Failure));
        assert_eq!(h.woken(), 1);
        assert_eq!(
            h.notes(),
            ["Unhealthy: Readiness probe failed: connection refused"; 3]
        );
        // Readiness keeps probing after a failure.
        h.at(65.5).await;
        assert_eq!(check.runs(), 7);
        assert_eq!(h.verdict(Kind::Readiness), Some(Verdict::Success));
        h.stop.cancel();
        h.at(200.0).await;
        assert_eq!(check.runs(), 7);
    }

    #[tokio::test(start_paused = true)]
    async fn the_startup_probe_holds_back_liveness_and_readiness_until_it_succeeds() {
        let mut h = Harness::new(&[Kind::Startup, Kind::Liveness, Kind::Readiness]);
        let startup = Scripted::new(&[false, false, true]);
        let (liveness, readiness) = (Scripted::new(&[true]), Scripted::new(&[true]));
        h.spawn(Kind::Startup, settings(1, 3), startup.clone());
        h.spawn(Kind::Liveness, settings(1, 3), liveness.clone());
        h.spawn(Kind::Readiness, settings(1, 3), readiness.clone());
        assert!(!lock(&h.verdicts).started());
        h.at(15.0).await;
        assert_eq!(
            (startup.runs(), liveness.runs(), readiness.runs()),
            (2, 0, 0)
        );
        assert_eq!(h.verdict(Kind::Startup), Some(Verdict::Unknown));
        h.at(25.0).await;
        assert_eq!(h.verdict(Kind::Startup), Some(Verdict::Success));
        assert!(lock(&h.verdicts).started());
        h.at(45.0).await;
        // The startup probe is done; the others run from their next tick.
        assert_eq!(startup.runs(), 3);
        assert!(liveness.runs() >= 2 && readiness.runs() >= 2);
        assert!(lock(&h.verdicts).ready());
        assert!(h.woken() >= 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_startup_probe_is_a_verdict_to_kill() {
        let h = Harness::new(&[Kind::Startup, Kind::Liveness]);
        let (startup, liveness) = (Scripted::new(&[false]), Scripted::new(&[true]));
        h.spawn(Kind::Startup, settings(1, 2), startup.clone());
        h.spawn(Kind::Liveness, settings(1, 3), liveness.clone());
        h.at(100.0).await;
        assert_eq!(startup.runs(), 2);
        assert_eq!(liveness.runs(), 0);
        assert_eq!(lock(&h.verdicts).failed(), Some(Kind::Startup));
    }

    #[tokio::test(start_paused = true)]
    async fn liveness_fails_after_its_threshold_and_then_stops_probing() {
        let mut h = Harness::new(&[Kind::Liveness]);
        let check = Scripted::new(&[false, true, false, false, false]);
        h.spawn(Kind::Liveness, settings(1, 3), check.clone());
        assert_eq!(lock(&h.verdicts).failed(), None);
        h.at(35.0).await;
        assert_eq!(h.verdict(Kind::Liveness), Some(Verdict::Success));
        assert_eq!(h.woken(), 0);
        h.at(45.0).await;
        assert_eq!(h.verdict(Kind::Liveness), Some(Verdict::Failure));
        assert_eq!(lock(&h.verdicts).failed(), Some(Kind::Liveness));
        assert_eq!(h.woken(), 1);
        assert_eq!(h.notes().len(), 4);
        h.at(200.0).await;
        assert_eq!(check.runs(), 5);
    }

    #[tokio::test(start_paused = true)]
    async fn a_probe_that_cannot_run_counts_for_nothing() {
        struct Broken;
        impl Check for Broken {
            async fn run(&self, _timeout: Duration) -> Outcome {
                Outcome::Error(ProbeError::NoAddress)
            }
        }
        let mut h = Harness::new(&[Kind::Liveness]);
        h.spawn(Kind::Liveness, settings(1, 1), Broken);
        h.at(25.0).await;
        assert_eq!(h.verdict(Kind::Liveness), Some(Verdict::Success));
        assert_eq!(h.woken(), 0);
        assert_eq!(
            h.notes(),
            ["Unhealthy: Liveness probe errored: the pod has no address yet"; 3]
        );
    }
}
