//! Keeping mkc's long-running work alive when a bug panics in it. The API server, its
//! controllers and the node agent all run for as long as the cluster does, so a panic must
//! neither take a whole component down nor end one part of it silently:
//!
//! - [`install_panic_hook`] reports every panic as one error line (where, and what), without
//!   the backtrace whose symbols, once resolved, stay mapped in memory for good;
//! - [`catch`] turns a panic inside one reconcile or request into an error of the caller's
//!   own type, which its retry policy handles like any other failure;
//! - [`supervise`] runs a task again, with back-off, each time it panics.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::FutureExt;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The first wait before a panicked task runs again; it doubles up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// A task that ran this long before panicking starts its back-off afresh.
const STEADY: Duration = Duration::from_secs(300);

/// A panic, caught and carried as an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panicked(pub String);

impl std::fmt::Display for Panicked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "panicked: {}", self.0)
    }
}

impl std::error::Error for Panicked {}

/// Replaces the default panic report with one error line through `tracing`.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let thread = std::thread::current();
        tracing::error!(
            thread = thread.name().unwrap_or("unnamed"),
            %location,
            "panicked: {}",
            message(info.payload())
        );
    }));
}

/// The text a panic was raised with.
pub fn message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// Runs `work`, answering a panic inside it as `Err(Panicked)` in the caller's error type.
pub async fn catch<T, E>(work: impl Future<Output = Result<T, E>>) -> Result<T, E>
where
    E: From<Panicked>,
{
    match AssertUnwindSafe(work).catch_unwind().await {
        Ok(outcome) => outcome,
        Err(payload) => Err(Panicked(message(payload.as_ref())).into()),
    }
}

/// Runs the task `start` makes until it ends by itself or `shutdown` is cancelled; each time
/// it panics, it is logged and a new one is started after a back-off that doubles from
/// [`FIRST_BACKOFF`] to [`MAX_BACKOFF`] (afresh once a task has run [`STEADY`]).
pub async fn supervise<F, T>(name: &'static str, shutdown: CancellationToken, mut start: F)
where
    F: FnMut() -> T,
    T: Future<Output = ()> + Send + 'static,
{
    let mut backoff = FIRST_BACKOFF;
    loop {
        let started = Instant::now();
        match tokio::spawn(start()).await {
            Err(ended) if ended.is_panic() && !shutdown.is_cancelled() => {}
            _ => return,
        }
        if started.elapsed() >= STEADY {
            backoff = FIRST_BACKOFF;
        }
        tracing::error!(task = name, "task panicked; restarting in {backoff:?}");
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = shutdown.cancelled() => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[derive(Debug, PartialEq)]
    enum Error {
        Panicked(Panicked),
    }

    impl From<Panicked> for Error {
        fn from(p: Panicked) -> Self {
            Error::Panicked(p)
        }
    }

    #[tokio::test]
    async fn a_panic_in_work_becomes_the_callers_error() {
        let outcome: Result<(), Error> =
            catch(async { panic!("tolerationSeconds overflowed") }).await;
        assert_eq!(
            outcome,
            Err(Error::Panicked(Panicked(
                "tolerationSeconds overflowed".into()
            )))
        );
        let fine: Result<u8, Error> = catch(async { Ok(7) }).await;
        assert_eq!(fine, Ok(7));
    }

    #[tokio::test(start_paused = true)]
    async fn a_panicking_task_is_restarted_with_growing_back_off() {
        let runs = Arc::new(AtomicU32::new(0));
        let counted = runs.clone();
        let shutdown = CancellationToken::new();
        let started = Instant::now();
        supervise("flaky", shutdown.clone(), move || {
            let run = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                if run < 3 {
                    panic!("run {run} fails");
                }
            }
        })
        .await;
        assert_eq!(
            runs.load(Ordering::SeqCst),
            4,
            "three panics, then a clean end"
        );
        // Waits of 1 s, 2 s and 4 s between the four runs.
        assert_eq!(started.elapsed().as_secs(), 7);
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_ends_the_back_off() {
        let shutdown = CancellationToken::new();
        let stopper = shutdown.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            stopper.cancel();
        });
        let runs = Arc::new(AtomicU32::new(0));
        let counted = runs.clone();
        supervise("always failing", shutdown, move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async { panic!("always") }
        })
        .await;
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }
}
