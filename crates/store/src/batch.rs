//! Group commit for issuance, on both backends.
//!
//! A durable commit costs an fsync (SQLite) or a WAL flush (PostgreSQL), and every statement
//! a round trip, so one transaction per pass caps issuance at the disk's flush rate and spends
//! most of its time handing statements to the database. Instead, a writer task takes every
//! prepared request waiting at that moment and runs them in one transaction: per request one
//! bounded read of earlier passes, then one INSERT per 32 passes, one commit. Each caller is
//! answered only after the commit: nothing is acknowledged that a crash could lose. Requests
//! in a batch see each other's passes, so quotas stay exact (see `issuance.rs`).
//!
//! SQLite has one writer, so one task. PostgreSQL takes a few tasks, each on its own
//! connection, so that one batch's round trips overlap with another's; the batches lock their
//! residents' rows, which keeps quotas exact between them and between nodes. Each resident's
//! requests always go to the same task (by a hash of the resident), so that a resident with
//! many requests in flight never has two batches waiting for each other's lock on their row —
//! which would hold up everyone else in those batches.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot, Mutex};
use tokio::task::JoinHandle;

use crate::issuance::{check_and_store, IssuanceStats, Prepared};
use crate::passes::{IssueError, PassRecord};
use crate::{Backend, StoreError};

/// The most requests committed together; bounds a batch's latency.
const MAX_BATCH: usize = 256;

/// Writer tasks on PostgreSQL (each holds a connection while it works).
const PG_WRITERS: usize = 4;

type Reply = oneshot::Sender<Result<PassRecord, IssueError>>;
type Queue = mpsc::Receiver<(Prepared, Reply)>;

#[derive(Clone)]
pub(crate) struct Issuer {
    /// One queue per writer task.
    queues: Arc<Vec<mpsc::Sender<(Prepared, Reply)>>>,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
    stats: Arc<IssuanceStats>,
}

impl Issuer {
    pub(crate) fn start(backend: Backend, writer: AnyPool) -> Self {
        let writers = match backend {
            Backend::Sqlite => 1,
            Backend::Postgres => PG_WRITERS,
        };
        let stats = Arc::new(IssuanceStats::default());
        let mut queues = Vec::with_capacity(writers);
        let mut tasks = Vec::with_capacity(writers);
        for _ in 0..writers {
            let (queue, rx) = mpsc::channel(4 * MAX_BATCH);
            queues.push(queue);
            tasks.push(tokio::spawn(run(
                backend,
                writer.clone(),
                rx,
                stats.clone(),
            )));
        }
        Self {
            queues: Arc::new(queues),
            tasks: Arc::new(Mutex::new(tasks)),
            stats,
        }
    }

    /// The writer task a resident's requests go to.
    fn queue_of(&self, resident_id: &str) -> &mpsc::Sender<(Prepared, Reply)> {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        resident_id.hash(&mut hasher);
        &self.queues[(hasher.finish() % self.queues.len() as u64) as usize]
    }

    pub(crate) fn stats(&self) -> &IssuanceStats {
        &self.stats
    }

    pub(crate) async fn issue(&self, prepared: Prepared) -> Result<PassRecord, IssueError> {
        let (tx, rx) = oneshot::channel();
        self.queue_of(prepared.resident_id())
            .send((prepared, tx))
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Stops the writer tasks. A batch being committed is abandoned with its transaction
    /// (rolled back, its callers told the store closed); none is half-stored.
    pub(crate) async fn stop(&self) {
        for handle in self.tasks.lock().await.drain(..) {
            handle.abort();
            let _ = handle.await;
        }
    }
}

async fn run(backend: Backend, writer: AnyPool, mut rx: Queue, stats: Arc<IssuanceStats>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        let taken = rx.recv_many(&mut batch, MAX_BATCH).await;
        if taken == 0 {
            return;
        }
        let (prepared, replies): (Vec<Prepared>, Vec<Reply>) = batch.drain(..).unzip();
        let results = commit_batch(backend, &writer, &prepared, &stats).await;
        for (reply, result) in replies.into_iter().zip(results) {
            let _ = reply.send(result);
        }
    }
}

type Results = Vec<Result<PassRecord, IssueError>>;

/// Runs the batch in one transaction; every result is final only if the commit succeeds.
/// (Boxed as `Send` where its lifetimes are concrete: left to inference, `tokio::spawn` trips
/// over rustc's handling of higher-ranked lifetimes in sqlx executors.)
fn commit_batch<'a>(
    backend: Backend,
    writer: &'a AnyPool,
    batch: &'a [Prepared],
    stats: &'a IssuanceStats,
) -> Pin<Box<dyn Future<Output = Results> + Send + 'a>> {
    Box::pin(async move {
        let result = async {
            let mut tx = match backend {
                Backend::Sqlite => crate::begin_sqlite_write(writer).await?,
                Backend::Postgres => writer.begin().await?,
            };
            let results = check_and_store(backend, &mut tx, batch, stats).await?;
            tx.commit().await?;
            Ok::<_, StoreError>(results)
        }
        .await;
        result.unwrap_or_else(|e| fail_all(batch.len(), &e))
    })
}

/// Every request of a batch whose transaction failed gets the failure (still "unavailable"
/// when it was, so that each caller is told to retry).
fn fail_all(n: usize, e: &StoreError) -> Results {
    (0..n)
        .map(|_| Err(IssueError::Store(shared_failure(e))))
        .collect()
}

/// The failure of a batch's transaction as each of its callers is told it: still
/// "unavailable" when it was, so that each is told to retry.
pub(crate) fn shared_failure(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable(why) => StoreError::Unavailable(why.clone()),
        other => StoreError::Db(sqlx::Error::Protocol(other.to_string())),
    }
}
