//! `--keep-resolved`: resolved alerts older than that are deleted, with
//! their notes and history, checked at least once a minute, in small
//! batches with a pause between them, so that ingest never waits long for
//! the database and a steady flow does not grow it without bound.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::store::Store;

/// Alerts deleted per transaction: a few milliseconds of work.
pub const BATCH: usize = 500;
/// The longest time between two checks.
const CHECK_EVERY: Duration = Duration::from_secs(60);
/// The shortest (only a test keeps alerts for seconds).
const CHECK_AT_MOST: Duration = Duration::from_millis(100);
/// Between two batches, the writer goes first.
const PAUSE: Duration = Duration::from_millis(20);

/// How often alerts kept for `keep` are looked for: once a minute, or
/// four times within `keep` when that is shorter.
pub fn check_every(keep: Duration) -> Duration {
    (keep / 4).clamp(CHECK_AT_MOST, CHECK_EVERY)
}

/// Deletes what is past `keep` until `shutdown`.
pub async fn run(store: Arc<dyn Store>, keep: Duration, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(check_every(keep));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let Ok(keep) = chrono::Duration::from_std(keep) else {
            return; // kept longer than the calendar reaches: nothing to do
        };
        let before = chrono::Utc::now() - keep;
        let mut deleted = 0;
        loop {
            let n = match store.prune_resolved(before, BATCH).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot delete old resolved alerts; trying again later");
                    break;
                }
            };
            deleted += n;
            if n < BATCH {
                break;
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(PAUSE) => {}
            }
        }
        if deleted > 0 {
            tracing::info!(deleted, "resolved alerts past --keep-resolved deleted");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_at_least_once_a_minute() {
        assert_eq!(check_every(Duration::from_secs(30 * 86_400)), CHECK_EVERY);
        assert_eq!(
            check_every(Duration::from_secs(2)),
            Duration::from_millis(500)
        );
        assert_eq!(check_every(Duration::from_millis(100)), CHECK_AT_MOST);
    }
}
