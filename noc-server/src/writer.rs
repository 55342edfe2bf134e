//! The write path: one task owns every write to the store, so that
//! concurrent requests share one transaction and one disk sync (group
//! commit), and events are published in `seq` order, after their commit.
//!
//! [`Writer`] is the one way down for everyone who changes alerts: the
//! HTTP routes, the Alertmanager webhook and the demo all call
//! [`Writer::ingest`] or [`Writer::write`].

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::change::{Action, Actor, AlertInput, Outcome, WriteError, WriteOp};
use crate::event::Publish;
use crate::metrics::Metrics;
use crate::store::{Store, StoreError};

/// Requests waiting for the writer beyond this make callers wait their turn.
const QUEUE: usize = 4096;
/// The most requests committed in one transaction.
const MAX_BATCH: usize = 512;

/// Why a write stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum WriterError {
    /// The alert's state refuses the change (unknown alert, resolved,
    /// owned by another source).
    #[error(transparent)]
    Refused(#[from] WriteError),
    /// The store failed; the whole batch was rolled back and may be retried.
    #[error("the alert store is unavailable, try again")]
    Unavailable(#[source] Arc<StoreError>),
    /// The writer task has stopped.
    #[error("the server is shutting down, try again")]
    ShuttingDown,
}

type Reply = oneshot::Sender<Result<Vec<Outcome>, WriterError>>;

/// A handle to the writer task; cloning shares it. The task ends once every
/// handle is dropped and the queue is drained.
#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<(Vec<WriteOp>, Reply)>,
    metrics: Metrics,
}

impl Writer {
    /// Starts the writer task over `store`. It publishes what it commits
    /// through `publish`, or leaves that to the store's follower (`None`).
    pub fn start(
        store: Arc<dyn Store>,
        publish: Option<Arc<dyn Publish>>,
        metrics: Metrics,
    ) -> (Writer, JoinHandle<()>) {
        let (queue, rx) = mpsc::channel(QUEUE);
        let task = tokio::spawn(run(store, publish, rx));
        (Writer { queue, metrics }, task)
    }

    /// Stores `inputs` from `by` as one all-or-nothing request, giving an
    /// id to each that has none; returns the outcomes, in order (a stale
    /// write's outcome holds the alert as it was).
    pub async fn ingest(
        &self,
        by: Actor,
        inputs: Vec<AlertInput>,
    ) -> Result<Vec<Outcome>, WriterError> {
        let ops = inputs
            .into_iter()
            .map(|mut input| {
                input
                    .id
                    .get_or_insert_with(|| uuid::Uuid::now_v7().to_string());
                WriteOp::new(by.clone(), Action::Ingest(input))
            })
            .collect();
        let outcomes = self.write(ops).await?;
        self.metrics.ingested.inc_by(outcomes.len() as u64);
        Ok(outcomes)
    }

    /// Applies one request's ops, all or nothing. `Ok` means committed to
    /// disk and published. Counts the time to commit and the failures.
    pub async fn write(&self, ops: Vec<WriteOp>) -> Result<Vec<Outcome>, WriterError> {
        let started = Instant::now();
        let result = self.send(ops).await;
        self.metrics
            .ingest_seconds
            .observe(started.elapsed().as_secs_f64());
        if result.is_err() {
            self.metrics.rejected.inc();
        }
        result
    }

    async fn send(&self, ops: Vec<WriteOp>) -> Result<Vec<Outcome>, WriterError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((ops, reply))
            .await
            .map_err(|_| WriterError::ShuttingDown)?;
        answer.await.map_err(|_| WriterError::ShuttingDown)?
    }
}

async fn run(
    store: Arc<dyn Store>,
    publish: Option<Arc<dyn Publish>>,
    mut rx: mpsc::Receiver<(Vec<WriteOp>, Reply)>,
) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let (batch, replies): (Vec<_>, Vec<_>) = jobs.drain(..).unzip();
        match store.write(&batch).await {
            Ok(results) => {
                for (result, reply) in results.into_iter().zip(replies) {
                    if let (Ok(outcomes), Some(publish)) = (&result, &publish) {
                        for event in outcomes.iter().flat_map(|o| o.events()) {
                            publish.publish(event);
                        }
                    }
                    let _ = reply.send(result.map_err(WriterError::Refused));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, requests = replies.len(), "write batch failed; nothing of it is stored");
                let e = Arc::new(e);
                for reply in replies {
                    let _ = reply.send(Err(WriterError::Unavailable(e.clone())));
                }
            }
        }
    }
}
