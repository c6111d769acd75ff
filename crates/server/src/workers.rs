//! A few threads of our own for the heavy work a request can ask for — checking a password
//! (Argon2 takes ~19 MiB for tens of milliseconds) and decoding a photo (up to 64 MiB) —
//! with a short queue in front of them.
//!
//! Why not tokio's blocking pool: it grows to hundreds of threads, and the allocator keeps a
//! freed block in the arena of the thread that used it, so a burst of password checks spread
//! over many threads leaves hundreds of megabytes resident for good (measured: 425 MiB after
//! 150 sign-ins at once). A fixed set of threads bounds both the work running at once and
//! the memory it keeps; a full queue is answered "busy, retry" at once.

use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of worker threads with a bounded queue.
#[derive(Clone)]
pub struct Workers {
    queue: SyncSender<Job>,
    name: &'static str,
}

/// The queue was full: the caller should answer "busy".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("every {0} worker is busy and its queue is full")]
pub struct Busy(pub &'static str);

impl Workers {
    /// Starts `threads` threads named after `name`, with room for `queued` jobs waiting.
    pub fn start(name: &'static str, threads: usize, queued: usize) -> Self {
        let (queue, jobs) = mpsc::sync_channel::<Job>(queued);
        let jobs = Arc::new(Mutex::new(jobs));
        for i in 0..threads.max(1) {
            let jobs = jobs.clone();
            std::thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || loop {
                    // The lock is held only to take a job, never while running one.
                    let job = match jobs.lock() {
                        Ok(receiver) => receiver.recv(),
                        Err(poisoned) => poisoned.into_inner().recv(),
                    };
                    match job {
                        Ok(job) => job(),
                        // Every sender is gone: the service has stopped.
                        Err(_) => return,
                    }
                })
                .expect("the OS starts a worker thread");
        }
        Self { queue, name }
    }

    /// Runs `work` on a worker and waits for its result; refused at once when the queue is
    /// full. A panic inside `work` is caught and logged, and reported as busy.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Busy> {
        let (done, result) = oneshot::channel();
        let name = self.name;
        let job: Job =
            Box::new(
                move || match std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
                    Ok(value) => {
                        let _ = done.send(value);
                    }
                    Err(_) => tracing::error!(workers = name, "a worker's job panicked"),
                },
            );
        match self.queue.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => return Err(Busy(name)),
        }
        result.await.map_err(|_| Busy(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_jobs_and_refuses_past_the_queue() {
        let workers = Workers::start("test", 1, 1);
        assert_eq!(workers.run(|| 6 * 7).await, Ok(42));
        // One job running (until released), one waiting in the queue: a third is refused.
        let (started, is_started) = tokio::sync::oneshot::channel();
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let first = tokio::spawn({
            let w = workers.clone();
            async move {
                w.run(move || {
                    let _ = started.send(());
                    wait.recv().is_ok()
                })
                .await
            }
        });
        is_started.await.unwrap();
        // The queue's one place, taken (by a job that says when it has run).
        let (probed, probe_ran) = tokio::sync::oneshot::channel();
        workers
            .queue
            .try_send(Box::new(move || {
                let _ = probed.send(());
            }))
            .unwrap();
        assert_eq!(workers.run(|| 3).await, Err(Busy("test")));
        release.send(()).unwrap();
        assert_eq!(first.await.unwrap(), Ok(true));
        probe_ran.await.unwrap();
        assert_eq!(workers.run(|| 4).await, Ok(4));
    }

    #[tokio::test]
    async fn a_panic_is_reported_not_spread() {
        let workers = Workers::start("test", 1, 4);
        assert_eq!(
            workers.run(|| panic!("boom")).await,
            Err::<(), _>(Busy("test"))
        );
        assert_eq!(workers.run(|| 1).await, Ok(1));
    }
}
