//! Group commit for issuance on SQLite.
//!
//! A durable SQLite commit costs an fsync, and SQLite has one writer, so one
//! transaction per pass caps issuance at the disk's fsync rate. Instead, one task
//! takes every issuance request waiting at that moment, runs them one after
//! another in a single transaction (each in its own savepoint, so one failure
//! does not undo the others) and commits once. Each caller is answered only after
//! the commit: nothing is acknowledged that a crash could lose. Requests in a
//! batch see each other's passes, so quotas stay exact.
//!
//! PostgreSQL needs none of this: concurrent transactions on separate
//! connections already share fsyncs, and row locks keep quotas exact.

use std::future::Future;
use std::pin::Pin;

use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot, Mutex};

use crate::passes::{issue_in, IssueError, IssueRequest, PassRecord};
use crate::{Backend, Store, StoreError};

/// The most requests committed together; bounds a batch's latency.
const MAX_BATCH: usize = 256;

type Reply = oneshot::Sender<Result<PassRecord, IssueError>>;

#[derive(Clone)]
pub(crate) enum Issuer {
    /// One transaction per request (PostgreSQL).
    Direct,
    /// Requests go to the batching task (SQLite).
    Batched {
        queue: mpsc::Sender<(IssueRequest, Reply)>,
        task: std::sync::Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
    },
}

impl Issuer {
    pub(crate) fn start(backend: Backend, writer: AnyPool) -> Self {
        match backend {
            Backend::Postgres => Self::Direct,
            Backend::Sqlite => {
                let (queue, rx) = mpsc::channel(4 * MAX_BATCH);
                let task = tokio::spawn(run(writer, rx));
                Self::Batched {
                    queue,
                    task: std::sync::Arc::new(Mutex::new(Some(task))),
                }
            }
        }
    }

    pub(crate) async fn issue(
        &self,
        store: &Store,
        req: IssueRequest,
    ) -> Result<PassRecord, IssueError> {
        match self {
            Self::Direct => store.issue_single(&req).await,
            Self::Batched { queue, .. } => {
                let (tx, rx) = oneshot::channel();
                queue
                    .send((req, tx))
                    .await
                    .map_err(|_| StoreError::Closed)?;
                rx.await.map_err(|_| StoreError::Closed)?
            }
        }
    }

    /// Lets the batching task finish what it has taken, then stops it.
    pub(crate) async fn stop(&self) {
        if let Self::Batched { task, .. } = self {
            if let Some(handle) = task.lock().await.take() {
                handle.abort();
                let _ = handle.await;
            }
        }
    }
}

async fn run(writer: AnyPool, mut rx: mpsc::Receiver<(IssueRequest, Reply)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let results = commit_batch(&writer, &batch).await;
        for ((_, reply), result) in batch.drain(..).zip(results) {
            let _ = reply.send(result);
        }
    }
}

type Results = Vec<Result<PassRecord, IssueError>>;

/// Runs the batch in one transaction; every result is final only if the commit
/// succeeds. (Boxed as `Send` for the reason given at `issue_in`.)
fn commit_batch<'a>(
    writer: &'a AnyPool,
    batch: &'a [(IssueRequest, Reply)],
) -> Pin<Box<dyn Future<Output = Results> + Send + 'a>> {
    Box::pin(commit_batch_inner(writer, batch))
}

async fn commit_batch_inner(writer: &AnyPool, batch: &[(IssueRequest, Reply)]) -> Results {
    let mut tx = match crate::begin_sqlite_write(writer).await {
        Ok(tx) => tx,
        Err(e) => return fail_store(batch.len(), &e),
    };
    let mut results = Vec::with_capacity(batch.len());
    for (req, _) in batch {
        if let Err(e) = sqlx::query("SAVEPOINT issue").execute(&mut *tx).await {
            return fail_all(batch.len(), &e);
        }
        let result = issue_in(Backend::Sqlite, &mut tx, req).await;
        if matches!(result, Err(IssueError::Store(_))) {
            if let Err(e) = sqlx::query("ROLLBACK TO issue").execute(&mut *tx).await {
                return fail_all(batch.len(), &e);
            }
        }
        if let Err(e) = sqlx::query("RELEASE issue").execute(&mut *tx).await {
            return fail_all(batch.len(), &e);
        }
        results.push(result);
    }
    match tx.commit().await {
        Ok(()) => results,
        Err(e) => fail_all(batch.len(), &e),
    }
}

/// Every request of a batch whose transaction could not begin gets the failure.
fn fail_store(n: usize, e: &StoreError) -> Results {
    (0..n)
        .map(|_| {
            Err(IssueError::Store(match e {
                StoreError::Unavailable(why) => StoreError::Unavailable(why.clone()),
                other => StoreError::Db(sqlx::Error::Protocol(other.to_string())),
            }))
        })
        .collect()
}

/// Every request of a batch whose transaction failed gets the failure (as unavailable when
/// it was, so that each caller is told to retry).
fn fail_all(n: usize, e: &sqlx::Error) -> Results {
    let msg = e.to_string();
    let unavailable = crate::is_unavailable(e);
    (0..n)
        .map(|_| {
            Err(IssueError::Store(if unavailable {
                StoreError::Unavailable(msg.clone())
            } else {
                StoreError::Db(sqlx::Error::Protocol(msg.clone()))
            }))
        })
        .collect()
}
