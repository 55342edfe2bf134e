//! The write-back outbox: a row queued in the very transaction of the
//! action it tells (so an action is never stored without its write-back,
//! nor a write-back sent for an action that was not stored), claimed by
//! the worker when due (on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so that
//! several instances send each row once), and finished with its outcome.
//!
//! What to queue is decided here purely ([`queued`]); the SQL is
//! [`outbox_sql!`], expanded in each backend.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use noc_shared::{Alert, EventKind, Writeback, WritebackState};

use crate::change::{Actor, WriteOp};

/// How long a claimed row is the claimer's: another worker takes it again
/// after this if the first never finished it (it died mid-send).
pub const LEASE: Duration = Duration::from_secs(60);
/// How long a write-back is retried before it is `failed`.
pub const GIVE_UP: Duration = Duration::from_secs(24 * 3600);
/// How long finished write-backs (done or failed) are kept, for
/// `GET /api/v1/sources`'s counts and the people looking into a failure.
pub const KEEP_FINISHED: Duration = Duration::from_secs(30 * 24 * 3600);
/// The first retry's wait; it doubles up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// One queued write-back, as the worker claims it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub alert_id: String,
    pub source: String,
    /// `ack`, `unack`, `note` or `resolve`.
    pub action: String,
    pub actor: String,
    pub note: Option<String>,
    pub expires_at: Option<i64>,
    /// The alert's labels when queued, a JSON object.
    pub labels: String,
    pub attempts: i64,
    /// When it was queued, Unix milliseconds.
    pub created_at: i64,
}

impl OutboxRow {
    /// The labels as queued (none if the JSON is unreadable, which the
    /// server never writes).
    pub fn labels(&self) -> BTreeMap<String, String> {
        serde_json::from_str(&self.labels).unwrap_or_default()
    }

    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.expires_at.and_then(DateTime::from_timestamp_millis)
    }

    /// Whether it has been pending for [`GIVE_UP`] at `now`.
    pub fn given_up(&self, now: DateTime<Utc>) -> bool {
        now.timestamp_millis().saturating_sub(self.created_at) >= millis(GIVE_UP)
    }
}

/// What one attempt at a row came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The source took it; `remote_id` is what it made (a silence's id).
    Done { remote_id: Option<String> },
    /// Try again after the backoff, unless [`GIVE_UP`] has passed.
    Retry(String),
    /// Never try again.
    Failed(String),
    /// Not tried: its source has been down since before [`GIVE_UP`] ran
    /// out. `failed` with the source's last error; its attempts stay as
    /// they were.
    Expired(String),
}

/// What to queue for one event of an alert whose source, of `kind`, is
/// written back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub action: &'static str,
    pub note: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// What the source of `kind` hears of `event` made by `op` (`note` being
/// the ack's note or the note's text), if anything: Zabbix hears people's
/// acks, unacks and notes; Alertmanager a person's ack (a silence), and its
/// end: a person's unack, or the resolve of an acked alert by anyone. An
/// ack that lapses by itself needs nothing: its silence ends with it.
pub fn queued(
    kind: &str,
    op: &WriteOp,
    event: EventKind,
    before: Option<&Alert>,
    after: &Alert,
    note: Option<&str>,
) -> Option<Queued> {
    if !may_write_back(op, event, before) {
        return None;
    }
    let by_user = matches!(op.by, Actor::User(_));
    let action = match (kind, event) {
        ("zabbix" | "alertmanager", EventKind::Acknowledged) if by_user => "ack",
        ("zabbix" | "alertmanager", EventKind::Unacknowledged) if by_user => "unack",
        ("zabbix", EventKind::Noted) if by_user => "note",
        ("alertmanager", EventKind::Resolved) if before.is_some_and(Alert::is_acked) => "resolve",
        _ => return None,
    };
    Some(Queued {
        action,
        note: note.map(str::to_owned),
        expires_at: (action == "ack").then_some(after.ack_expires_at).flatten(),
    })
}

/// Whether `event`, made by `op`, is one that some kind of source hears
/// (a person's ack, unack or note; the resolve of an acked alert). Most
/// writes are not: they skip looking up their source's kind, a statement
/// on every ingest otherwise.
pub fn may_write_back(op: &WriteOp, event: EventKind, before: Option<&Alert>) -> bool {
    match event {
        EventKind::Acknowledged | EventKind::Unacknowledged | EventKind::Noted => {
            matches!(op.by, Actor::User(_))
        }
        EventKind::Resolved => before.is_some_and(Alert::is_acked),
        _ => false,
    }
}

/// The wait before attempt `attempts + 1`, after `attempts` failed ones:
/// 1 s, doubling, at most 5 min.
pub fn backoff(attempts: i64) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
    (FIRST_BACKOFF * 2u32.pow(doublings)).min(MAX_BACKOFF)
}

/// The write-back an alert shows, from its newest row and whether any row
/// is still pending.
pub fn shown(newest: Option<(String, Option<String>)>, pending: bool) -> Option<Writeback> {
    let (state, error) = newest?;
    let state = match (pending, state.as_str()) {
        (true, _) | (false, "pending") => WritebackState::Pending,
        (false, "done") => WritebackState::Done,
        _ => WritebackState::Failed,
    };
    Some(Writeback {
        state,
        error: if state == WritebackState::Done {
            None
        } else {
            error
        },
    })
}

/// Unix milliseconds of `at` plus `d`.
pub fn millis_after(at: DateTime<Utc>, d: Duration) -> i64 {
    at.timestamp_millis().saturating_add(millis(d))
}

/// `d` in milliseconds.
pub fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The outbox's SQL, the same on SQLite and PostgreSQL; `$claim_lock` is
/// appended to the claim's select (`FOR UPDATE SKIP LOCKED` on PostgreSQL,
/// where several instances claim; empty on SQLite, one process), and
/// `$begin` starts its transactions (`BEGIN IMMEDIATE` on SQLite, as
/// `silence_writes!` says why).
macro_rules! outbox_sql {
    ($db:ty, $conn:ty, $claim_lock:expr, $begin:expr) => {
        /// What `applied` (made by `op`) is to tell the alert's source, if
        /// that source is written back; the alert then shows its
        /// write-back pending, in the same write.
        async fn writeback_for(
            conn: &mut $conn,
            op: &$crate::change::WriteOp,
            before: Option<&noc_shared::Alert>,
            applied: &mut $crate::change::Applied,
        ) -> Result<Option<$crate::store::outbox::Queued>, sqlx::Error> {
            let Some(event) = applied.kind else {
                return Ok(None);
            };
            if !$crate::store::outbox::may_write_back(op, event, before) {
                return Ok(None);
            }
            let Some(kind) = writeback_kind(conn, &applied.stored.alert.source).await? else {
                return Ok(None);
            };
            let alert = &mut applied.stored.alert;
            let queued = $crate::store::outbox::queued(
                &kind,
                op,
                event,
                before,
                alert,
                applied.note.as_deref(),
            );
            if queued.is_some() {
                alert.writeback = Some(noc_shared::Writeback {
                    state: noc_shared::WritebackState::Pending,
                    error: None,
                });
            }
            Ok(queued)
        }

        /// The kind of `source` if its alerts are written back.
        async fn writeback_kind(
            conn: &mut $conn,
            source: &str,
        ) -> Result<Option<String>, sqlx::Error> {
            sqlx::query_scalar("SELECT kind FROM writeback_sources WHERE name = $1")
                .bind(source)
                .fetch_optional(conn)
                .await
        }

        /// Queues `q` for `alert`, by `actor`, due at once.
        async fn queue_writeback(
            conn: &mut $conn,
            alert: &noc_shared::Alert,
            q: &$crate::store::outbox::Queued,
            actor: &str,
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<(), sqlx::Error> {
            // A map of strings always serializes.
            let labels = serde_json::to_string(&alert.labels).unwrap_or_else(|_| "{}".into());
            sqlx::query(
                "INSERT INTO outbox (alert_id, source, action, actor, note, expires_at, labels, \
                 next_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
            )
            .bind(&alert.id)
            .bind(&alert.source)
            .bind(q.action)
            .bind(actor)
            .bind(&q.note)
            .bind(q.expires_at.map(|t| t.timestamp_millis()))
            .bind(labels)
            .bind(now.timestamp_millis())
            .execute(conn)
            .await?;
            Ok(())
        }

        /// Claims up to `max` due rows for [`$crate::store::outbox::LEASE`]:
        /// each alert's oldest pending row only, so that a source hears an
        /// alert's actions in order.
        async fn claim_writebacks(
            pool: &sqlx::Pool<$db>,
            now: chrono::DateTime<chrono::Utc>,
            max: usize,
        ) -> Result<Vec<$crate::store::outbox::OutboxRow>, $crate::store::StoreError> {
            let mut tx = pool.begin_with($begin).await?;
            let sql = format!(
                "SELECT id, alert_id, source, action, actor, note, expires_at, labels, attempts, \
                 created_at FROM outbox o WHERE state = 'pending' AND next_at <= $1 AND NOT EXISTS \
                 (SELECT 1 FROM outbox e WHERE e.alert_id = o.alert_id AND e.state = 'pending' \
                 AND e.id < o.id) ORDER BY id LIMIT $2{}",
                $claim_lock
            );
            let rows: Vec<$crate::store::outbox::OutboxRow> = sqlx::query_as(&sql)
                .bind(now.timestamp_millis())
                .bind($crate::store::rows::limit(max))
                .fetch_all(&mut *tx)
                .await?;
            let until = $crate::store::outbox::millis_after(now, $crate::store::outbox::LEASE);
            for row in &rows {
                sqlx::query("UPDATE outbox SET next_at = $1 WHERE id = $2")
                    .bind(until)
                    .bind(row.id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(rows)
        }

        /// Records how row `id` went; answers its alert's id and the
        /// write-back that alert now shows.
        async fn finish_writeback(
            pool: &sqlx::Pool<$db>,
            id: i64,
            attempt: &$crate::store::outbox::Attempt,
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<Option<(String, Option<noc_shared::Writeback>)>, $crate::store::StoreError>
        {
            use $crate::store::outbox::{Attempt, GIVE_UP, backoff, millis_after, shown};
            let mut tx = pool.begin_with($begin).await?;
            let found: Option<(String, i64, i64)> =
                sqlx::query_as("SELECT alert_id, attempts, created_at FROM outbox WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some((alert_id, attempts, created_at)) = found else {
                return Ok(None);
            };
            let given_up = now.timestamp_millis().saturating_sub(created_at)
                >= $crate::store::outbox::millis(GIVE_UP);
            let (state, error, remote_id, next_at) = match attempt {
                Attempt::Done { remote_id } => ("done", None, remote_id.clone(), now.timestamp_millis()),
                Attempt::Failed(e) | Attempt::Expired(e) => ("failed", Some(e.clone()), None, now.timestamp_millis()),
                Attempt::Retry(e) if given_up => ("failed", Some(e.clone()), None, now.timestamp_millis()),
                Attempt::Retry(e) => (
                    "pending",
                    Some(e.clone()),
                    None,
                    millis_after(now, backoff(attempts + 1)),
                ),
            };
            sqlx::query(
                "UPDATE outbox SET state = $1, last_error = $2, remote_id = $3, next_at = $4, \
                 attempts = attempts + $5 WHERE id = $6",
            )
            .bind(state)
            .bind(error)
            .bind(remote_id)
            .bind(next_at)
            .bind(i64::from(!matches!(attempt, Attempt::Expired(_))))
            .bind(id)
            .execute(&mut *tx)
            .await?;
            let newest: Option<(String, Option<String>)> = sqlx::query_as(
                "SELECT state, last_error FROM outbox WHERE alert_id = $1 ORDER BY id DESC LIMIT 1",
            )
            .bind(&alert_id)
            .fetch_optional(&mut *tx)
            .await?;
            let pending: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM outbox WHERE alert_id = $1 AND state = 'pending' LIMIT 1",
            )
            .bind(&alert_id)
            .fetch_optional(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(Some((alert_id, shown(newest, pending.is_some()))))
        }

        /// Postpones `source`'s pending write-backs to `until`: those due
        /// before it, except rows pending for
        /// [`$crate::store::outbox::GIVE_UP`] at `now` (they stay due, to
        /// be given up), and the claimed rows `held` (not sent: the source
        /// is down). One statement; answers how many were postponed.
        async fn postpone_writebacks(
            pool: &sqlx::Pool<$db>,
            source: &str,
            until: chrono::DateTime<chrono::Utc>,
            held: &[i64],
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<u64, $crate::store::StoreError> {
            use std::fmt::Write as _;
            let mut sql = String::from(
                "UPDATE outbox SET next_at = $2 WHERE source = $1 AND state = 'pending' \
                 AND ((next_at < $2 AND created_at > $3)",
            );
            if !held.is_empty() {
                sql.push_str(" OR id IN (");
                for n in 0..held.len() {
                    let comma = if n == 0 { "" } else { ", " };
                    let _ = write!(sql, "{comma}${}", n + 4);
                }
                sql.push(')');
            }
            sql.push(')');
            use $crate::store::outbox::{GIVE_UP, millis};
            let since = now.timestamp_millis().saturating_sub(millis(GIVE_UP));
            let mut query = sqlx::query(&sql)
                .bind(source)
                .bind(until.timestamp_millis())
                .bind(since);
            for id in held {
                query = query.bind(*id);
            }
            Ok(query.execute(pool).await?.rows_affected())
        }

        /// The newest silence an ack of `alert_id` made that is not
        /// deleted yet: its row and the source's id for it.
        async fn open_silence(
            pool: &sqlx::Pool<$db>,
            alert_id: &str,
        ) -> Result<Option<(i64, String)>, $crate::store::StoreError> {
            Ok(sqlx::query_as(
                "SELECT id, remote_id FROM outbox WHERE alert_id = $1 AND action = 'ack' \
                 AND remote_id IS NOT NULL ORDER BY id DESC LIMIT 1",
            )
            .bind(alert_id)
            .fetch_optional(pool)
            .await?)
        }

        /// Forgets the silence of row `id` (it has been deleted).
        async fn close_silence(
            pool: &sqlx::Pool<$db>,
            id: i64,
        ) -> Result<(), $crate::store::StoreError> {
            sqlx::query("UPDATE outbox SET remote_id = NULL WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?;
            Ok(())
        }

        /// Replaces the set of written-back sources: `(name, kind)`.
        async fn set_writeback_sources(
            pool: &sqlx::Pool<$db>,
            sources: &[(String, String)],
        ) -> Result<(), $crate::store::StoreError> {
            let mut tx = pool.begin_with($begin).await?;
            sqlx::query("DELETE FROM writeback_sources").execute(&mut *tx).await?;
            for (name, kind) in sources {
                sqlx::query("INSERT INTO writeback_sources (name, kind) VALUES ($1, $2)")
                    .bind(name)
                    .bind(kind)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        }

        /// Deletes up to `max` finished rows queued before `before`, except
        /// an ack's whose silence is still up; answers how many went.
        async fn prune_writebacks(
            pool: &sqlx::Pool<$db>,
            before: chrono::DateTime<chrono::Utc>,
            max: usize,
        ) -> Result<u64, $crate::store::StoreError> {
            let done = sqlx::query(
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state <> 'pending' \
                 AND remote_id IS NULL AND created_at < $1 ORDER BY id LIMIT $2)",
            )
            .bind(before.timestamp_millis())
            .bind($crate::store::rows::limit(max))
            .execute(pool)
            .await?;
            Ok(done.rows_affected())
        }

        /// Per source: write-backs pending and failed, and the newest error.
        async fn writeback_counts(
            pool: &sqlx::Pool<$db>,
        ) -> Result<
            std::collections::BTreeMap<String, noc_shared::WritebackCounts>,
            $crate::store::StoreError,
        > {
            let rows: Vec<(String, String, i64)> = sqlx::query_as(
                "SELECT source, state, COUNT(*) FROM outbox \
                 WHERE state IN ('pending', 'failed') GROUP BY source, state",
            )
            .fetch_all(pool)
            .await?;
            let mut counts = std::collections::BTreeMap::<String, noc_shared::WritebackCounts>::new();
            for (source, state, n) in rows {
                let entry = counts.entry(source).or_insert_with(|| noc_shared::WritebackCounts {
                    pending: 0,
                    failed: 0,
                    last_error: None,
                });
                let n = u64::try_from(n).unwrap_or_default();
                if state == "pending" {
                    entry.pending = n;
                } else {
                    entry.failed = n;
                }
            }
            for (source, entry) in counts.iter_mut() {
                entry.last_error = sqlx::query_scalar(
                    "SELECT last_error FROM outbox WHERE source = $1 AND last_error IS NOT NULL \
                     AND state <> 'done' ORDER BY id DESC LIMIT 1",
                )
                .bind(source)
                .fetch_optional(pool)
                .await?;
            }
            Ok(counts)
        }
    };
}

pub(super) use outbox_sql;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_second_to_five_minutes() {
        let waits: Vec<u64> = (1..=11).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
    }

    #[test]
    fn an_alert_shows_pending_while_any_row_is() {
        let done = Some(("done".to_owned(), None));
        let failed = Some(("failed".to_owned(), Some("HTTP 500".to_owned())));
        assert_eq!(shown(None, false), None);
        assert_eq!(
            shown(done.clone(), false).map(|w| w.state),
            Some(WritebackState::Done)
        );
        assert_eq!(
            shown(done, true).map(|w| w.state),
            Some(WritebackState::Pending)
        );
        assert_eq!(
            shown(failed, false),
            Some(Writeback {
                state: WritebackState::Failed,
                error: Some("HTTP 500".into())
            })
        );
    }
}
