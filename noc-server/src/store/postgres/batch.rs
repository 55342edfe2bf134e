//! Ingest batches in a fixed number of round trips.
//!
//! The general path (`apply_batch`) costs every alert a savepoint, a read,
//! a write-back lookup, an upsert and a history row: six round trips, and
//! every writer of every instance waits on the `seq` lock meanwhile. A
//! batch of nothing but ingests is applied here instead: one read of all
//! its alerts (`id = ANY`), one of their sources' write-back kinds, the
//! pure `change::apply` in memory, then one multi-row statement each for
//! alerts, history and (rarely) the outbox. A refused request leaves no
//! trace because its changes are only merged once all its ops applied.

use std::collections::HashMap;

use sqlx::{PgConnection, Postgres, QueryBuilder};

use crate::change::{Action, Outcome, StoredAlert, WriteError, WriteOp, apply, diff};
use crate::store::outbox::{self, Queued};
use crate::store::rows::{AlertRow, COLUMNS};
use crate::store::{BatchResult, StoreError};

/// Rows a statement: 31 binds an alert stays under PostgreSQL's 65,535.
const CHUNK: usize = 1000;

/// Whether `batch` is ingests only, the case this module applies.
pub(super) fn all_ingests(batch: &[Vec<WriteOp>]) -> bool {
    batch
        .iter()
        .flatten()
        .all(|op| matches!(op.action, Action::Ingest(_)))
}

/// A write-back to queue once the batch's alerts are written.
struct QueuedRow {
    alert: noc_shared::Alert,
    queued: Queued,
    actor: String,
    now: chrono::DateTime<chrono::Utc>,
}

/// What one request stores, kept apart until it has fully applied.
#[derive(Default)]
struct Pending {
    alerts: HashMap<String, StoredAlert>,
    history: Vec<(String, noc_shared::HistoryEntry)>,
    outbox: Vec<QueuedRow>,
}

/// Applies an ingest-only `batch` in `conn` (the batch's transaction,
/// holding the `seq` lock); numbers events from `seq + 1`.
pub(super) async fn apply_ingests(
    conn: &mut PgConnection,
    batch: &[Vec<WriteOp>],
    mut seq: u64,
    rules: &crate::silence::Rules,
) -> Result<(BatchResult, u64), StoreError> {
    let mut known = load_all(conn, batch).await?;
    let kinds = writeback_kinds(conn).await?;
    // The alerts to write, each once, in the order first changed.
    let mut order = Vec::new();
    let mut ordered = std::collections::HashSet::new();
    let mut history = Vec::new();
    let mut queue = Vec::new();
    let mut results = Vec::with_capacity(batch.len());
    for request in batch {
        let mut pending = Pending::default();
        let mut next_seq = seq;
        match apply_request(&known, &kinds, request, &mut next_seq, rules, &mut pending) {
            Ok(outcomes) => {
                seq = next_seq;
                for (id, stored) in pending.alerts {
                    if ordered.insert(id.clone()) {
                        order.push(id.clone());
                    }
                    known.insert(id, Some(stored));
                }
                history.extend(pending.history);
                queue.extend(pending.outbox);
                results.push(Ok(outcomes));
            }
            Err(e) => results.push(Err(e)),
        }
    }
    let changed: Vec<&StoredAlert> = order
        .iter()
        .filter_map(|id| known.get(id).and_then(Option::as_ref))
        .collect();
    save_all(conn, &changed).await?;
    insert_history_all(conn, &history).await?;
    for row in &queue {
        super::queue_writeback(conn, &row.alert, &row.queued, &row.actor, row.now).await?;
    }
    Ok((results, seq))
}

/// One request's ops in order, against the batch's alerts as they stand
/// plus this request's own changes.
fn apply_request(
    known: &HashMap<String, Option<StoredAlert>>,
    kinds: &HashMap<String, String>,
    request: &[WriteOp],
    seq: &mut u64,
    rules: &crate::silence::Rules,
    pending: &mut Pending,
) -> Result<Vec<Outcome>, WriteError> {
    let mut outcomes = Vec::with_capacity(request.len());
    for op in request {
        let existing = pending
            .alerts
            .get(op.id())
            .or_else(|| known.get(op.id()).and_then(Option::as_ref))
            .cloned();
        let now = crate::change::now();
        let mut applied = apply(existing.as_ref(), op, now)?;
        crate::silence::mark(&mut applied, rules, now);
        let before = existing.as_ref().map(|s| &s.alert);
        let flag = crate::change::flap::follow(before, &mut applied, false, now);
        let mut outcome = Outcome {
            alert: applied.stored.alert.clone(),
            event: None,
            flapping: None,
            stale: applied.stale,
            note: None,
        };
        if let Some(kind) = applied.kind {
            let source = &applied.stored.alert.source;
            let queued = kinds
                .get(source)
                .and_then(|k| outbox::queued(k, op, kind, before, &applied.stored.alert, None));
            if let Some(queued) = queued {
                applied.stored.alert.writeback = Some(noc_shared::Writeback {
                    state: noc_shared::WritebackState::Pending,
                    error: None,
                });
                outcome.alert = applied.stored.alert.clone();
                pending.outbox.push(QueuedRow {
                    alert: outcome.alert.clone(),
                    queued,
                    actor: op.by.name().to_owned(),
                    now,
                });
            }
            // The op's own event shows the alert as it was before the
            // flapping flag changed; the flag's `alert.updated` follows it
            // (a change of state always comes with an event).
            let mut shown = outcome.alert.clone();
            if let Some(flag) = flag {
                shown.flapping = !flag;
            }
            let said = (kind, applied.reason, op.by.name(), applied.note.clone());
            outcome.event = Some(record(pending, seq, said, before, &shown, now));
            if flag.is_some() {
                let said = (
                    noc_shared::EventKind::Updated,
                    Some(noc_shared::EventReason::Flapping),
                    crate::change::SERVER,
                    None,
                );
                outcome.flapping = Some(record(
                    pending,
                    seq,
                    said,
                    Some(&shown),
                    &outcome.alert,
                    now,
                ));
            }
            pending
                .alerts
                .insert(outcome.alert.id.clone(), applied.stored);
        }
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// What an event says besides its alert: kind, reason, by, note.
type Said<'a> = (
    noc_shared::EventKind,
    Option<noc_shared::EventReason>,
    &'a str,
    Option<String>,
);

/// Numbers the event of `alert`'s change from `before` and keeps its
/// history row for the batch's insert.
fn record(
    pending: &mut Pending,
    seq: &mut u64,
    (kind, reason, by, note): Said<'_>,
    before: Option<&noc_shared::Alert>,
    alert: &noc_shared::Alert,
    now: chrono::DateTime<chrono::Utc>,
) -> crate::event::Event {
    *seq += 1;
    let entry = noc_shared::HistoryEntry {
        seq: *seq,
        event: kind,
        at: now,
        by: by.to_owned(),
        note,
        changes: diff::changes(before, alert),
        reason,
    };
    pending.history.push((alert.id.clone(), entry));
    let mut event = crate::event::Event::new(kind, *seq, alert, before);
    event.reason = reason;
    event
}

/// Every alert the batch names, locked, in one round trip (`None` for
/// those not stored yet).
async fn load_all(
    conn: &mut PgConnection,
    batch: &[Vec<WriteOp>],
) -> Result<HashMap<String, Option<StoredAlert>>, StoreError> {
    let ids: Vec<String> = batch.iter().flatten().map(|o| o.id().to_owned()).collect();
    let sql = format!(
        "SELECT {} FROM alerts WHERE id = ANY($1) FOR UPDATE",
        *COLUMNS
    );
    let rows: Vec<AlertRow> = sqlx::query_as(&sql).bind(&ids).fetch_all(conn).await?;
    let mut known: HashMap<String, Option<StoredAlert>> =
        ids.into_iter().map(|id| (id, None)).collect();
    for row in rows {
        let stored = StoredAlert::try_from(row)?;
        known.insert(stored.alert.id.clone(), Some(stored));
    }
    Ok(known)
}

/// The write-back kind of every source whose alerts are written back (a
/// handful of rows: the sources file's Zabbix and Alertmanager entries).
async fn writeback_kinds(conn: &mut PgConnection) -> Result<HashMap<String, String>, StoreError> {
    let found: Vec<(String, String)> = sqlx::query_as("SELECT name, kind FROM writeback_sources")
        .fetch_all(conn)
        .await?;
    Ok(found.into_iter().collect())
}

/// Upserts `alerts` (each id once) in multi-row statements.
async fn save_all(conn: &mut PgConnection, alerts: &[&StoredAlert]) -> Result<(), sqlx::Error> {
    for chunk in alerts.chunks(CHUNK) {
        let mut sql =
            QueryBuilder::<Postgres>::new(format!("INSERT INTO alerts ({}, site_key) ", *COLUMNS));
        sql.push_values(chunk, |mut b, stored| {
            let r = AlertRow::from(*stored);
            b.push_bind(r.id)
                .push_bind(r.site)
                .push_bind(r.severity)
                .push_bind(r.message)
                .push_bind(r.host)
                .push_bind(r.source)
                .push_bind(r.status)
                .push_bind(r.created_at)
                .push_bind(r.updated_at)
                .push_bind(r.resolved_at)
                .push_bind(r.acked_by)
                .push_bind(r.acked_at)
                .push_bind(r.description)
                .push_bind(r.url)
                .push_bind(r.labels)
                .push_bind(r.occurrences)
                .push_bind(r.last_seen_at)
                .push_bind(r.expires_at)
                .push_bind(r.ttl_ms)
                .push_bind(r.last_at)
                .push_bind(r.ack_note)
                .push_bind(r.ack_expires_at)
                .push_bind(r.silenced_by)
                .push_bind(r.flapping)
                .push_bind(r.notes)
                .push_bind(r.writeback_state)
                .push_bind(r.writeback_error)
                .push_bind(r.owner)
                .push_bind(r.flap_resolves)
                .push_bind(r.flap_changed_at)
                .push_bind(noc_shared::site_key(&stored.alert.site));
        });
        sql.push(crate::store::rows::UPSERT_UPDATE.as_str());
        sql.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Inserts the batch's history rows in multi-row statements.
async fn insert_history_all(
    conn: &mut PgConnection,
    rows: &[(String, noc_shared::HistoryEntry)],
) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(CHUNK) {
        let mut sql = QueryBuilder::<Postgres>::new(
            "INSERT INTO history (seq, alert_id, event, at, actor, reason, note, changes) ",
        );
        sql.push_values(chunk, |mut b, (alert_id, entry)| {
            // A map of JSON values always serializes.
            let changes = serde_json::to_string(&entry.changes).unwrap_or_else(|_| "{}".into());
            b.push_bind(i64::try_from(entry.seq).unwrap_or(i64::MAX))
                .push_bind(alert_id.clone())
                .push_bind(entry.event.as_str())
                .push_bind(entry.at.timestamp_millis())
                .push_bind(entry.by.clone())
                .push_bind(entry.reason.map(|r| r.as_str()))
                .push_bind(entry.note.clone())
                .push_bind(changes);
        });
        sql.build().execute(&mut *conn).await?;
    }
    Ok(())
}
