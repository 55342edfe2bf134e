//! The part of a backend that is the same SQL on SQLite and PostgreSQL.

/// The few statements each backend words its own way.
pub struct Dialect {
    /// Run first in a snapshot's transaction, so that its two reads see one
    /// moment of the database (empty where a transaction already does).
    pub snapshot_isolation: &'static str,
    /// The condition "`id` is one of `$1`", a JSON array of strings: one
    /// statement text whatever their number, and read through the primary
    /// key's index.
    pub id_in_json: &'static str,
    /// Plan the batch's read of its alerts at each run, with the table as
    /// it is then: PostgreSQL would otherwise keep the plan it made for the
    /// first batches, on a nearly empty table (a scan of every row, 3 ms a
    /// batch at 20,000 alerts), until an ANALYZE.
    pub plan_read_each_time: bool,
}

/// The part of a backend that is the same SQL on SQLite and PostgreSQL,
/// written once and expanded for each backend's connection type (sqlx's
/// generic bounds for this would be longer than the code itself), with its
/// [`Dialect`] for the rest.
///
/// Expands to `apply_batch` (with its helpers), `read_seq`, `load`,
/// `load_many`, `save_many`, `list`, `snapshot` and `history` in the
/// calling module.
macro_rules! sql_backend {
    ($db:ty, $conn:ty, $dialect:expr) => {
        /// Applies `batch` inside `tx`; returns the outcomes and the last
        /// seq. Numbers events from `seq + 1`. The batch's alerts are read
        /// in one statement first, and what it changed is written at its
        /// end ([`crate::store::batch`]); a refused request leaves nothing.
        async fn apply_batch(
            tx: &mut sqlx::Transaction<'_, $db>,
            batch: &[Vec<$crate::change::WriteOp>],
            mut seq: u64,
            rules: &$crate::silence::Rules,
        ) -> Result<($crate::store::BatchResult, u64), $crate::store::StoreError> {
            use $crate::store::batch::{Draft, Pending};
            let mut pending = Pending::default();
            let mut ids = Vec::new();
            for request in batch.iter().filter(|request| !is_resilence(request)) {
                ids.extend(request.iter().map(|op| op.id()));
            }
            read_alerts(&mut **tx, &mut pending, &ids).await?;
            let mut results = Vec::with_capacity(batch.len());
            for request in batch {
                if is_resilence(request) {
                    // The silences' bulk path reads and writes `alerts`
                    // itself: it must see the batch so far, and the batch
                    // must read again what it changed.
                    write_pending(&mut **tx, &mut pending).await?;
                    let outcomes =
                        apply_resilence(&mut **tx, request, &mut seq, rules, &mut pending.history)
                            .await?;
                    pending.forget(outcomes.iter().map(|o| o.alert.id.as_str()));
                    results.push(Ok(outcomes));
                    continue;
                }
                let mut next_seq = seq;
                let mut draft = Draft::default();
                match apply_request(&mut **tx, &mut pending, &mut draft, request, &mut next_seq, rules)
                    .await
                {
                    Ok(outcomes) => {
                        seq = next_seq;
                        pending.keep(draft);
                        results.push(Ok(outcomes));
                    }
                    Err(Failure::Refused(e)) => results.push(Err(e)),
                    Err(Failure::Store(e)) => return Err(e),
                }
            }
            write_pending(&mut **tx, &mut pending).await?;
            Ok((results, seq))
        }

        /// The silence clock's request: `Resilence` ops only.
        fn is_resilence(request: &[$crate::change::WriteOp]) -> bool {
            use $crate::change::Action;
            !request.is_empty()
                && request
                    .iter()
                    .all(|op| matches!(op.action, Action::Resilence { .. }))
        }

        /// Reads those of `ids` the batch has not read, in one statement.
        async fn read_alerts(
            conn: &mut $conn,
            pending: &mut $crate::store::batch::Pending,
            ids: &[&str],
        ) -> Result<(), $crate::store::StoreError> {
            let unread = pending.unread(ids.iter().copied());
            if !unread.is_empty() {
                let found = load_many(conn, &unread).await?;
                pending.read(unread, found);
            }
            Ok(())
        }

        /// Writes what the batch changed so far: the alerts in one upsert,
        /// their history rows in one insert, then the write-backs queued.
        async fn write_pending(
            conn: &mut $conn,
            pending: &mut $crate::store::batch::Pending,
        ) -> Result<(), sqlx::Error> {
            if pending.is_clean() {
                return Ok(());
            }
            save_many(&mut *conn, &pending.changed()).await?;
            pending.written();
            insert_history(&mut *conn, &std::mem::take(&mut pending.history)).await?;
            for q in std::mem::take(&mut pending.outbox) {
                queue_writeback(&mut *conn, &q.alert, &q.queued, &q.actor, q.at).await?;
            }
            Ok(())
        }

        /// A request's failure: its own (it stores nothing, the others go
        /// on) or the database's (the whole batch fails).
        enum Failure {
            Refused($crate::change::WriteError),
            Store($crate::store::StoreError),
        }

        impl From<sqlx::Error> for Failure {
            fn from(e: sqlx::Error) -> Self {
                Failure::Store(e.into())
            }
        }

        impl From<$crate::store::StoreError> for Failure {
            fn from(e: $crate::store::StoreError) -> Self {
                Failure::Store(e)
            }
        }

        /// Alert `id` as the request and the batch have it, read from the
        /// store if the batch has not read it yet.
        async fn existing(
            conn: &mut $conn,
            pending: &mut $crate::store::batch::Pending,
            draft: &$crate::store::batch::Draft,
            id: &str,
        ) -> Result<Option<$crate::change::StoredAlert>, $crate::store::StoreError> {
            use $crate::store::batch::Known;
            if let Known::Unread = pending.get(draft, id) {
                read_alerts(conn, pending, &[id]).await?;
            }
            Ok(match pending.get(draft, id) {
                Known::Stored(stored) => Some(stored.clone()),
                Known::Absent | Known::Unread => None,
            })
        }

        /// Applies one request's ops in order into `draft`, numbering
        /// events from `*seq + 1`, with `silenced_by` as `rules` say. Only
        /// a note is written at once (its id is in its event); notes come
        /// one to a request, so a refused request never leaves one.
        async fn apply_request(
            conn: &mut $conn,
            pending: &mut $crate::store::batch::Pending,
            draft: &mut $crate::store::batch::Draft,
            request: &[$crate::change::WriteOp],
            seq: &mut u64,
            rules: &$crate::silence::Rules,
        ) -> Result<Vec<$crate::change::Outcome>, Failure> {
            use $crate::change::{Action, Outcome, apply};
            let mut outcomes = Vec::with_capacity(request.len());
            for op in request {
                let existing = existing(&mut *conn, pending, draft, op.id()).await?;
                let now = $crate::change::now();
                let mut applied = apply(existing.as_ref(), op, now).map_err(Failure::Refused)?;
                $crate::silence::mark(&mut applied, rules, now);
                let before = existing.as_ref().map(|s| &s.alert);
                let quiet = matches!(op.action, Action::FlapQuiet { .. });
                let flag = $crate::change::flap::follow(before, &mut applied, quiet, now);
                let writeback = writeback_for(&mut *conn, op, before, &mut applied).await?;
                let alert = applied.stored.alert.clone();
                let mut outcome = Outcome {
                    alert,
                    event: None,
                    flapping: None,
                    stale: applied.stale,
                    note: None,
                };
                // The op's own event shows the alert as it was before the
                // flag changed; the flag's `alert.updated` follows it.
                let mut shown = outcome.alert.clone();
                if let Some(flag) = flag {
                    shown.flapping = !flag;
                }
                if let Some(kind) = applied.kind {
                    if let Some(queued) = writeback {
                        draft.outbox.push($crate::store::batch::QueuedFor {
                            alert: outcome.alert.clone(),
                            queued,
                            actor: op.by.name().to_owned(),
                            at: now,
                        });
                    }
                    if let (noc_shared::EventKind::Noted, Some(text)) = (kind, &applied.note) {
                        let note = insert_note(&mut *conn, &outcome.alert.id, op.by.name(), text, now).await?;
                        outcome.note = Some(note);
                    }
                    let said = Said { kind, reason: applied.reason, by: op.by.name(), note: applied.note.clone() };
                    let mut event = record(seq, said, before, &shown, now, &mut draft.history);
                    event.note = outcome.note.clone();
                    outcome.event = Some(event);
                }
                if flag.is_some() {
                    let said = Said {
                        kind: noc_shared::EventKind::Updated,
                        reason: Some(noc_shared::EventReason::Flapping),
                        by: $crate::change::SERVER,
                        note: None,
                    };
                    let from = if applied.kind.is_some() { Some(&shown) } else { before };
                    let event = record(seq, said, from, &outcome.alert, now, &mut draft.history);
                    match outcome.event {
                        None => outcome.event = Some(event),
                        Some(_) => outcome.flapping = Some(event),
                    }
                }
                if applied.kind.is_some() || flag.is_some() {
                    draft.change(applied.stored);
                }
                outcomes.push(outcome);
            }
            Ok(outcomes)
        }

        /// What an event says besides its alert.
        struct Said<'a> {
            kind: noc_shared::EventKind,
            reason: Option<noc_shared::EventReason>,
            by: &'a str,
            note: Option<String>,
        }

        /// Numbers the event of `alert`'s change from `before` and adds its
        /// history row to `history`.
        fn record(
            seq: &mut u64,
            said: Said<'_>,
            before: Option<&noc_shared::Alert>,
            alert: &noc_shared::Alert,
            now: chrono::DateTime<chrono::Utc>,
            history: &mut Vec<(String, noc_shared::HistoryEntry)>,
        ) -> $crate::event::Event {
            *seq += 1;
            let entry = noc_shared::HistoryEntry {
                seq: *seq,
                event: said.kind,
                at: now,
                by: said.by.to_owned(),
                note: said.note,
                changes: $crate::change::diff::changes(before, alert),
                reason: said.reason,
            };
            history.push((alert.id.clone(), entry));
            let mut event = $crate::event::Event::new(said.kind, *seq, alert, before);
            event.reason = said.reason;
            event
        }

        async fn insert_note(
            conn: &mut $conn,
            alert_id: &str,
            author: &str,
            text: &str,
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<noc_shared::Note, sqlx::Error> {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO notes (alert_id, author, text, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(alert_id)
            .bind(author)
            .bind(text)
            .bind(now.timestamp_millis())
            .fetch_one(conn)
            .await?;
            Ok(noc_shared::Note {
                id: u64::try_from(id).unwrap_or_default(),
                alert_id: alert_id.to_owned(),
                author: author.to_owned(),
                text: text.to_owned(),
                created_at: now,
            })
        }

        /// Writes `entries`, each with its alert's id, a few statements
        /// for any number ([`crate::store::rows::in_chunks`]).
        async fn insert_history(
            conn: &mut $conn,
            entries: &[(String, noc_shared::HistoryEntry)],
        ) -> Result<(), sqlx::Error> {
            for chunk in $crate::store::rows::in_chunks(entries) {
                let mut sql = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO history (seq, alert_id, event, at, actor, reason, note, changes) ",
                );
                sql.push_values(chunk, |mut row, (id, entry)| {
                    // A map of JSON values always serializes.
                    let changes =
                        serde_json::to_string(&entry.changes).unwrap_or_else(|_| "{}".into());
                    row.push_bind(i64::try_from(entry.seq).unwrap_or(i64::MAX))
                        .push_bind(id.clone())
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

        /// The history of alert `id`, oldest first.
        async fn history(
            pool: &sqlx::Pool<$db>,
            id: &str,
        ) -> Result<Vec<noc_shared::HistoryEntry>, $crate::store::StoreError> {
            let rows: Vec<$crate::store::history::HistoryRow> = sqlx::query_as(
                "SELECT seq, event, at, actor, reason, note, changes FROM history \
                 WHERE alert_id = $1 ORDER BY seq",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            rows.into_iter()
                .map(|row| row.into_entry(id))
                .collect()
        }

        /// The last event's seq; `lock` is appended to the query (`FOR UPDATE`).
        async fn read_seq(conn: &mut $conn, lock: &str) -> Result<u64, $crate::store::StoreError> {
            let value: i64 = sqlx::query_scalar(&format!(
                "SELECT value FROM counters WHERE name = 'seq'{lock}"
            ))
            .fetch_one(conn)
            .await?;
            Ok(u64::try_from(value).unwrap_or_default())
        }

        async fn load(
            conn: &mut $conn,
            id: &str,
        ) -> Result<Option<$crate::change::StoredAlert>, $crate::store::StoreError> {
            let sql = format!(
                "SELECT {} FROM alerts WHERE id = $1",
                *$crate::store::rows::COLUMNS
            );
            let row: Option<$crate::store::rows::AlertRow> =
                sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?;
            row.map($crate::change::StoredAlert::try_from).transpose()
        }

        /// The stored alerts of `ids`, in one statement.
        async fn load_many(
            conn: &mut $conn,
            ids: &[&str],
        ) -> Result<Vec<$crate::change::StoredAlert>, $crate::store::StoreError> {
            // A list of strings always serializes.
            let ids = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
            let sql = format!(
                "SELECT {} FROM alerts WHERE {}",
                *$crate::store::rows::COLUMNS,
                $dialect.id_in_json
            );
            let rows: Vec<$crate::store::rows::AlertRow> = sqlx::query_as(&sql)
                .bind(ids)
                .persistent(!$dialect.plan_read_each_time)
                .fetch_all(conn)
                .await?;
            rows.into_iter()
                .map($crate::change::StoredAlert::try_from)
                .collect()
        }

        /// Inserts or replaces `alerts`, a few statements for any number
        /// ([`crate::store::rows::in_chunks`]).
        async fn save_many(
            conn: &mut $conn,
            alerts: &[&$crate::change::StoredAlert],
        ) -> Result<(), sqlx::Error> {
            use $crate::store::rows::{AlertRow, INSERT_ALERTS, UPSERT_UPDATE, in_chunks};
            for chunk in in_chunks(alerts) {
                let mut sql = sqlx::QueryBuilder::<$db>::new(INSERT_ALERTS.as_str());
                sql.push_values(chunk, |mut row, stored| {
                    let r = AlertRow::from(*stored);
                    row.push_bind(r.id)
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
                sql.push(UPSERT_UPDATE.as_str());
                sql.build().execute(&mut *conn).await?;
            }
            Ok(())
        }

        /// `GET /api/v1/alerts`: newest first.
        async fn list(
            pool: &sqlx::Pool<$db>,
            query: &$crate::store::ListQuery,
        ) -> Result<Vec<noc_shared::Alert>, $crate::store::StoreError> {
            use $crate::store::{StatusFilter, rows};
            let mut sql = rows::select_matching::<$db>(&query.filter);
            match query.status {
                StatusFilter::Active => sql.push(" AND status = 'active'"),
                StatusFilter::Resolved => return list_resolved(pool, query).await,
                StatusFilter::All => &mut sql,
            };
            sql.push(rows::NEWEST_FIRST)
                .push(" LIMIT ")
                .push_bind(rows::limit(query.limit));
            rows::alerts(sql.build_query_as().fetch_all(pool).await?)
        }

        /// A page of resolved alerts, most recently resolved first, before
        /// `query.before`; then the rest of those resolved in the same
        /// millisecond as the page's last, so that the next page (before
        /// that time) leaves none out.
        async fn list_resolved(
            pool: &sqlx::Pool<$db>,
            query: &$crate::store::ListQuery,
        ) -> Result<Vec<noc_shared::Alert>, $crate::store::StoreError> {
            use $crate::store::rows;
            let mut sql = rows::select_matching::<$db>(&query.filter);
            sql.push(" AND status = 'resolved'");
            if let Some(before) = query.before {
                sql.push(" AND resolved_at < ")
                    .push_bind(before.timestamp_millis());
            }
            sql.push(rows::LAST_RESOLVED_FIRST)
                .push(" LIMIT ")
                .push_bind(rows::limit(query.limit));
            let mut found: Vec<rows::AlertRow> = sql.build_query_as().fetch_all(pool).await?;
            let last = found.last().map(|r| (r.resolved_at, r.id.clone()));
            if let (true, Some((Some(at), id))) = (found.len() == query.limit, last) {
                let mut ties = rows::select_matching::<$db>(&query.filter);
                ties.push(" AND status = 'resolved' AND resolved_at = ")
                    .push_bind(at)
                    .push(" AND id > ")
                    .push_bind(id)
                    .push(" ORDER BY id ASC");
                let more: Vec<rows::AlertRow> = ties.build_query_as().fetch_all(pool).await?;
                found.extend(more);
            }
            rows::alerts(found)
        }

        /// The active alerts of `filter` in display order, at most `max`, and
        /// the seq they contain.
        async fn snapshot(
            pool: &sqlx::Pool<$db>,
            filter: &noc_shared::SiteFilter,
            max: usize,
        ) -> Result<$crate::store::StoreSnapshot, $crate::store::StoreError> {
            use $crate::store::rows;
            let mut tx = pool.begin().await?;
            let isolation: &str = $dialect.snapshot_isolation;
            if !isolation.is_empty() {
                sqlx::query(isolation).execute(&mut *tx).await?;
            }
            let seq = read_seq(&mut tx, "").await?;
            let mut sql = rows::select_matching::<$db>(filter);
            sql.push(" AND status = 'active'")
                .push(rows::DISPLAY_ORDER)
                .push(" LIMIT ");
            sql.push_bind(rows::limit(max.saturating_add(1)));
            let found: Vec<rows::AlertRow> = sql.build_query_as().fetch_all(&mut *tx).await?;
            tx.commit().await?;
            let mut alerts = rows::alerts(found)?;
            let truncated = alerts.len() > max;
            alerts.truncate(max);
            Ok($crate::store::StoreSnapshot {
                seq,
                alerts,
                truncated,
            })
        }
    };
}

pub(super) use sql_backend;
