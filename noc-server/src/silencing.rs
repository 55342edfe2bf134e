//! Keeps every alert's `silenced_by` right as silences start and end.
//!
//! Each write already stores `silenced_by` as the live silences say at its
//! time (the store's write path, with `silence::mark`). What changes by
//! itself is the clock: a silence starting or ending changes what they say
//! about alerts nobody writes. [`run`] wakes at each such time and
//! [`reconcile`]s: one write of every alert whose `silenced_by` differs,
//! each emitting `alert.updated` with `"reason": "silence"`.
//!
//! Every instance on a shared store runs this; each op checks again inside
//! the write transaction (which the store orders across instances), so the
//! first instance changes the alerts and the others find nothing to do:
//! each change is emitted once.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::change::now;
use crate::store::Store;
use crate::writer::{Writer, WriterError};

/// The longest the clock sleeps without looking for silences made or
/// ended elsewhere (another instance, a pending silence just posted).
const POLL: Duration = Duration::from_secs(1);

/// Brings every alert's `silenced_by` to what the silences say at `now`,
/// in one write transaction; returns how many alerts changed.
pub async fn reconcile(
    store: &dyn Store,
    writer: &Writer,
    now: DateTime<Utc>,
) -> Result<usize, WriterError> {
    let ops = store
        .silence_mismatches(now)
        .await
        .map_err(|e| WriterError::Unavailable(Arc::new(e)))?;
    if ops.is_empty() {
        return Ok(0);
    }
    let outcomes = writer.write(ops).await?;
    Ok(outcomes.iter().filter(|o| o.event.is_some()).count())
}

/// The silence clock: reconciles at start and at every time a silence
/// starts or ends, until `shutdown`.
pub async fn run(store: Arc<dyn Store>, writer: Writer, shutdown: CancellationToken) {
    // Transitions at or before `since` are done; `None` until the first
    // reconcile, which catches up with whatever happened while stopped.
    let mut since: Option<DateTime<Utc>> = None;
    loop {
        let now = now();
        let next = match since {
            None => Some(now),
            Some(since) => store.next_silence_change(since).await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "cannot read the next silence change; trying again");
                None
            }),
        };
        if next.is_some_and(|t| t <= now) {
            match reconcile(&*store, &writer, now).await {
                Ok(changed) => {
                    if changed > 0 {
                        // How long after the start or end the screens were
                        // handed the changes (committed and published).
                        let late_ms =
                            next.map_or(0, |t| (crate::change::now() - t).num_milliseconds());
                        tracing::info!(
                            changed,
                            late_ms,
                            "silences started or ended: alerts marked"
                        );
                    }
                    since = Some(now);
                    continue;
                }
                Err(e) => tracing::warn!(error = %e, "cannot mark silenced alerts; trying again"),
            }
        }
        let wait = next
            .and_then(|t| (t - now).to_std().ok())
            .map_or(POLL, |d| d.min(POLL));
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
    }
}
