//! The clock: whatever is due at a time (an alert's `ttl` running out, an
//! ack lapsing) happens at that time, through the writer like any other
//! change.
//!
//! One task ([`run`]) asks each [`Timer`] for its next time, sleeps until
//! the earliest (or until the [`Alarm`] rings: something may now be due
//! earlier), then writes the ops that are due. Each op checks again, in its
//! own write transaction, that it is still due, so with several instances
//! on one database every instance may fire and the event is still emitted
//! once (PostgreSQL: writers take the `seq` row lock before they read the
//! alert). The times live in the store, so a restart forgets none.
//!
//! A flapping alert is due when it has stayed in one state for the window
//! (`change::flap`); [`AlertTimes`] gives those too.
//!
//! Two kinds of timed work keep loops of their own, for reasons a
//! [`Timer`] would hide: a silence starting or ending (`silencing`) changes
//! up to every alert at once, written as one bulk request rather than an op
//! each, and is looked for every second because another instance may have
//! made the silence; a source falling silent (`liveness`) is timed from
//! signs of life kept in memory, not from a time in the store.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::join_all;
use noc_shared::Alert;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::change::{self, WriteError, WriteOp};
use crate::event::{Event, Publish};
use crate::store::{Store, StoreError};
use crate::writer::{Writer, WriterError};

/// The longest the clock sleeps without looking at the store again: it
/// also catches times set where no alarm rang (an instance that died
/// between its write and its own clock).
const MAX_SLEEP: Duration = Duration::from_secs(10);
/// How long to wait after the store failed before trying again.
const RETRY: Duration = Duration::from_secs(1);
/// The most ops of one kind one round fires; more wait for the next round,
/// which starts at once.
const BATCH: usize = 500;
/// The least pause between rounds that changed nothing, so that a time
/// the ops do not clear (which should not happen) cannot make it spin.
const MIN_PAUSE: Duration = Duration::from_millis(20);

/// One kind of work due at a time.
#[async_trait::async_trait]
pub trait Timer: Send + Sync {
    /// The earliest time something of this kind is due, if anything is.
    async fn next(&self) -> Result<Option<DateTime<Utc>>, StoreError>;

    /// The ops due at `now` (at most a batch of them).
    async fn due(&self, now: DateTime<Utc>) -> Result<Vec<WriteOp>, StoreError>;
}

/// Rings the clock: something may be due earlier than the time it sleeps
/// towards. Cloning shares it; ringing is cheap and never blocks.
#[derive(Clone, Default)]
pub struct Alarm(Arc<Notify>);

impl Alarm {
    pub fn ring(&self) {
        self.0.notify_one();
    }
}

/// Alerts' own times: `expires_at`, `ack_expires_at` and the end of
/// flapping, from the store.
pub struct AlertTimes(pub Arc<dyn Store>);

#[async_trait::async_trait]
impl Timer for AlertTimes {
    async fn next(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.0.next_deadline().await
    }

    async fn due(&self, now: DateTime<Utc>) -> Result<Vec<WriteOp>, StoreError> {
        self.0.due(now, BATCH).await
    }
}

/// A [`Publish`] in front of the hub that rings the alarm for every event
/// whose alert carries a time, from this instance or (through the
/// PostgreSQL follower) any other.
pub struct Watch {
    pub hub: Arc<dyn Publish>,
    pub alarm: Alarm,
}

impl Publish for Watch {
    fn publish(&self, event: &Event) {
        self.hub.publish(event);
        if has_time(&event.alert) {
            self.alarm.ring();
        }
    }

    fn resync_all(&self) {
        self.hub.resync_all();
    }
}

fn has_time(alert: &Alert) -> bool {
    alert.expires_at.is_some() || alert.ack_expires_at.is_some() || alert.flapping
}

/// Fires every timer's due ops at their time, until `shutdown`.
pub async fn run(
    timers: Vec<Arc<dyn Timer>>,
    writer: Writer,
    alarm: Alarm,
    shutdown: CancellationToken,
) {
    loop {
        let wait = match round(&timers, &writer).await {
            Ok(wait) => wait,
            Err(e) => {
                tracing::warn!(error = %e, "the clock cannot read or write the store; retrying");
                RETRY
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = alarm.0.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// Fires what is due now; returns how long to sleep until the next time.
async fn round(timers: &[Arc<dyn Timer>], writer: &Writer) -> Result<Duration, ClockError> {
    let now = change::now();
    let mut fired = false;
    for timer in timers {
        let ops = timer.due(now).await?;
        // One request each, sent together: the writer commits them in one
        // group, and one that is refused does not hold up the others.
        let results = join_all(ops.into_iter().map(|op| writer.write(vec![op]))).await;
        for result in results {
            match result {
                Ok(outcomes) => fired |= outcomes.iter().any(|o| o.event.is_some()),
                // Gone meanwhile.
                Err(WriterError::Refused(WriteError::NotFound(_))) => {}
                Err(WriterError::Refused(e)) => tracing::warn!(error = %e, "a due op was refused"),
                Err(e) => return Err(ClockError::Write(e)),
            }
        }
    }
    if fired {
        // More may be due (a full batch): look again at once.
        return Ok(Duration::ZERO);
    }
    let mut next: Option<DateTime<Utc>> = None;
    for timer in timers {
        if let Some(t) = timer.next().await? {
            next = Some(next.map_or(t, |n| n.min(t)));
        }
    }
    Ok(next.map_or(MAX_SLEEP, |t| {
        (t - change::now())
            .to_std()
            .unwrap_or(Duration::ZERO)
            .clamp(MIN_PAUSE, MAX_SLEEP)
    }))
}

#[derive(Debug, thiserror::Error)]
enum ClockError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Write(WriterError),
}
