//! The follower of a PostgreSQL store: every instance's committed events,
//! read from the `events` table by `seq` after each NOTIFY (and every few
//! seconds whatever NOTIFY says), published in this instance in order; a
//! lost listener reconnected, with every screen resynced, and how long it
//! was deaf kept for `/healthz`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use noc_shared::EventKind;
use sqlx::postgres::{PgListener, PgPoolOptions};
use tokio_util::sync::CancellationToken;

use super::{CHANNEL, EventRecord, PostgresStore};
use crate::event::{Event, Publish};
use crate::store::StoreError;

/// The longest wait between two attempts to get the event listener back:
/// short, because every screen of the instance waits for it to resync, and
/// one connection attempt every two seconds costs the database nothing.
const MAX_RETRY: Duration = Duration::from_secs(2);
/// The longest one attempt to open the listening connection may take.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(5);
/// A follower also looks for new events this often, whatever NOTIFY says.
const POLL: Duration = Duration::from_secs(2);

impl PostgresStore {
    /// Records that the follower stopped listening (keeping the first
    /// moment), or, with `None`, that it listens again.
    fn set_deaf(&self, error: Option<String>) {
        let mut deaf = self.deaf.lock().unwrap_or_else(|e| e.into_inner());
        match error {
            None => *deaf = None,
            Some(error) => {
                let since = deaf.as_ref().map_or_else(Instant::now, |(since, _)| *since);
                *deaf = Some((since, error));
            }
        }
    }

    /// Publishes every committed event, from every instance, in seq order,
    /// until `shutdown`. When the listening connection is lost it
    /// reconnects by itself and resyncs every screen of this instance.
    pub async fn follow(self: Arc<Self>, hub: Arc<dyn Publish>, shutdown: CancellationToken) {
        let mut cursor = self.start_seq;
        let mut reconnecting = false;
        let mut retry = Duration::from_millis(250);
        loop {
            let listener = tokio::select! {
                () = shutdown.cancelled() => return,
                // A connection attempt can hang on a half-dead network;
                // give it up and try again rather than wait forever.
                l = tokio::time::timeout(LISTEN_TIMEOUT, self.listen()) => {
                    l.unwrap_or_else(|_| Err(sqlx::Error::PoolTimedOut))
                }
            };
            let mut listener = match listener {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?retry, "cannot listen for events; retrying");
                    self.set_deaf(Some(format!("cannot listen for events: {e}")));
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(retry) => {}
                    }
                    retry = (retry * 2).min(MAX_RETRY);
                    continue;
                }
            };
            retry = Duration::from_millis(250);
            self.set_deaf(None);
            if reconnecting {
                // Screens may hold a picture with a hole in it: replace it.
                tracing::warn!("event listener reconnected; resyncing every screen");
                hub.resync_all();
            }
            reconnecting = true;
            if let Err(e) = self
                .follow_connected(&mut listener, &*hub, &mut cursor, &shutdown)
                .await
            {
                tracing::warn!(error = %e, "event listener lost its connection");
                self.set_deaf(Some(format!("the event listener lost its connection: {e}")));
            }
            if shutdown.is_cancelled() {
                return;
            }
        }
    }

    async fn listen(&self) -> Result<PgListener, sqlx::Error> {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            // The pool retries a refused connection until this deadline,
            // waiting up to a fifth of it between tries: keep both short so
            // the listener is back soon after the database.
            .acquire_timeout(LISTEN_TIMEOUT)
            .connect_with(self.listen_options.clone())
            .await?;
        let mut listener = PgListener::connect_with(&pool).await?;
        // Without this, `recv` would reconnect silently and hide the hole.
        listener.ignore_pool_close_event(true);
        listener.listen(CHANNEL).await?;
        Ok(listener)
    }

    async fn follow_connected(
        &self,
        listener: &mut PgListener,
        hub: &dyn Publish,
        cursor: &mut u64,
        shutdown: &CancellationToken,
    ) -> Result<(), StoreError> {
        let mut poll = tokio::time::interval(POLL);
        loop {
            self.catch_up(hub, cursor).await?;
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                notification = listener.try_recv() => {
                    if notification?.is_none() {
                        return Err(StoreError::Database(sqlx::Error::PoolClosed));
                    }
                }
                _ = poll.tick() => {}
            }
        }
    }

    /// Publishes every event after `cursor`, in order.
    async fn catch_up(&self, hub: &dyn Publish, cursor: &mut u64) -> Result<(), StoreError> {
        let from = *cursor;
        let found: Vec<(i64, String)> =
            sqlx::query_as("SELECT seq, payload FROM events WHERE seq > $1 ORDER BY seq")
                .bind(i64::try_from(from).unwrap_or(i64::MAX))
                .fetch_all(&self.pool)
                .await?;
        for (seq, payload) in found {
            let seq = u64::try_from(seq).unwrap_or_default();
            let record: EventRecord =
                serde_json::from_str(&payload).map_err(|e| StoreError::Corrupt {
                    id: format!("event {seq}"),
                    what: e.to_string(),
                })?;
            let kind = EventKind::from_name(&record.kind).ok_or_else(|| StoreError::Corrupt {
                id: format!("event {seq}"),
                what: format!("unknown event kind {:?}", record.kind),
            })?;
            hub.publish(&Event {
                kind,
                seq,
                alert: record.alert,
                before: record.before,
                reason: record.reason,
                note: record.note,
            });
            *cursor = seq;
        }
        Ok(())
    }
}
