//! Group commit for audit entries recorded on their own (`Store::audit`).
//!
//! Every online verification records the inspector's read of a pass, so the audit log is
//! written as often as passes are checked. One transaction per entry would cap checks at the
//! disk's flush rate, and on PostgreSQL every entry would also hold the log's counter row
//! until its commit, one node's entry after another's. Instead one writer task takes every
//! entry waiting at that moment and appends them in one transaction, chained in the order
//! taken. Each caller is answered only after the commit: an acknowledged read is recorded.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot, Mutex};
use tokio::task::JoinHandle;

use crate::audit::{append_many, NewEntry};
use crate::batch::shared_failure;
use crate::{Backend, Result, StoreError};

/// The most entries committed together; bounds a batch's latency.
const MAX_BATCH: usize = 512;

type Reply = oneshot::Sender<Result<()>>;

#[derive(Clone)]
pub(crate) struct AuditWriter {
    queue: mpsc::Sender<(NewEntry, Reply)>,
    task: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl AuditWriter {
    pub(crate) fn start(backend: Backend, writer: AnyPool) -> Self {
        let (queue, rx) = mpsc::channel(4 * MAX_BATCH);
        let task = tokio::spawn(run(backend, writer, rx));
        Self {
            queue,
            task: Arc::new(Mutex::new(Some(task))),
        }
    }

    pub(crate) async fn record(&self, entry: NewEntry) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        self.queue
            .send((entry, tx))
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Stops the writer task. A batch being committed is abandoned with its transaction
    /// (rolled back, its callers told the store closed).
    pub(crate) async fn stop(&self) {
        if let Some(handle) = self.task.lock().await.take() {
            handle.abort();
            let _ = handle.await;
        }
    }
}

async fn run(backend: Backend, writer: AnyPool, mut rx: mpsc::Receiver<(NewEntry, Reply)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        if rx.recv_many(&mut batch, MAX_BATCH).await == 0 {
            return;
        }
        let (entries, replies): (Vec<NewEntry>, Vec<Reply>) = batch.drain(..).unzip();
        match commit(backend, &writer, &entries).await {
            Ok(()) => replies.into_iter().for_each(|r| {
                let _ = r.send(Ok(()));
            }),
            Err(e) => replies.into_iter().for_each(|r| {
                let _ = r.send(Err(shared_failure(&e)));
            }),
        }
    }
}

/// Appends the batch in one transaction. (Boxed as `Send` for the reason given in
/// `batch.rs`: rustc's handling of higher-ranked lifetimes in sqlx executors.)
fn commit<'a>(
    backend: Backend,
    writer: &'a AnyPool,
    entries: &'a [NewEntry],
) -> Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>> {
    Box::pin(async move {
        let mut tx = match backend {
            Backend::Sqlite => crate::begin_sqlite_write(writer).await?,
            Backend::Postgres => writer.begin().await?,
        };
        append_many(&mut tx, entries).await?;
        tx.commit().await?;
        Ok(())
    })
}
