//! The write path: one task owns every write to the store, so that
//! concurrent requests share one transaction and one disk sync (group
//! commit), and events reach the hub in `seq` order, after their commit.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::error::ApiError;
use crate::hub::Hub;
use crate::store::{Outcome, Store, WriteError, WriteOp};

/// Requests waiting for the writer beyond this make callers wait their turn.
const QUEUE: usize = 4096;
/// The most requests committed in one transaction.
const MAX_BATCH: usize = 512;

type Reply = oneshot::Sender<Result<Vec<Outcome>, ApiError>>;

/// A handle to the writer task; cloning shares it. The task ends once every
/// handle is dropped and the queue is drained.
#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<(Vec<WriteOp>, Reply)>,
}

impl Writer {
    /// Starts the writer task over `store`. It publishes what it commits to
    /// `hub`, or leaves that to the store's follower when there is one.
    pub fn start(store: Arc<dyn Store>, hub: Option<Arc<Hub>>) -> (Writer, JoinHandle<()>) {
        let (queue, rx) = mpsc::channel(QUEUE);
        let task = tokio::spawn(run(store, hub, rx));
        (Writer { queue }, task)
    }

    /// Applies one request's ops, all or nothing. `Ok` means committed to
    /// disk and published.
    pub async fn write(&self, ops: Vec<WriteOp>) -> Result<Vec<Outcome>, ApiError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((ops, reply))
            .await
            .map_err(|_| ApiError::ShuttingDown)?;
        answer.await.map_err(|_| ApiError::ShuttingDown)?
    }
}

async fn run(
    store: Arc<dyn Store>,
    hub: Option<Arc<Hub>>,
    mut rx: mpsc::Receiver<(Vec<WriteOp>, Reply)>,
) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let (batch, replies): (Vec<_>, Vec<_>) = jobs.drain(..).unzip();
        match store.write(&batch).await {
            Ok(results) => {
                for (result, reply) in results.into_iter().zip(replies) {
                    if let (Ok(outcomes), Some(hub)) = (&result, &hub) {
                        for event in outcomes.iter().filter_map(|o| o.event.as_ref()) {
                            hub.publish(event);
                        }
                    }
                    let _ = reply
                        .send(result.map_err(|WriteError::NotFound(msg)| ApiError::NotFound(msg)));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, requests = replies.len(), "write batch failed; nothing of it is stored");
                let e = Arc::new(e);
                for reply in replies {
                    let _ = reply.send(Err(ApiError::Unavailable(e.clone())));
                }
            }
        }
    }
}
