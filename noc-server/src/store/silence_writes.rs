//! The writes of silences that both SQL backends share: the API's two
//! transactions, and the silence clock's requests applied in bulk. Written
//! once and expanded for each backend, as [`super::sql`] is.

/// Adds to [`silence_sql`]'s functions the two whole transactions of the
/// API's writes, `create_silence` and `delete_silence`. `$begin` starts
/// them: SQLite's `BEGIN IMMEDIATE` takes the write lock before the first
/// read, so a pooled connection can never read an older snapshot and then
/// be refused its write ("database is locked", which no busy timeout waits
/// out).
macro_rules! silence_writes {
    ($db:ty, $begin:expr) => {
        /// Stores a new silence unless [`crate::silence::MAX_LIVE`] are
        /// live already (`Ok(Err(message))`).
        async fn create_silence(
            pool: &sqlx::Pool<$db>,
            s: &$crate::store::silences::StoredSilence,
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<Result<noc_shared::Silence, String>, $crate::store::StoreError> {
            let mut tx = pool.begin_with($begin).await?;
            if count_live(&mut tx, now).await? >= $crate::silence::MAX_LIVE {
                return Ok(Err(format!(
                    "{} silences are active or pending already: end some first",
                    $crate::silence::MAX_LIVE
                )));
            }
            insert_silence(&mut tx, s, now).await?;
            bump_silences(&mut tx).await?;
            tx.commit().await?;
            let mut silence = s.silence.clone();
            silence.state = noc_shared::SilenceState::at(now, silence.starts_at, silence.ends_at);
            Ok(Ok(silence))
        }

        /// Ends silence `id` now; `None` when there is no such silence.
        async fn delete_silence(
            pool: &sqlx::Pool<$db>,
            id: &str,
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<Option<noc_shared::Silence>, $crate::store::StoreError> {
            let mut tx = pool.begin_with($begin).await?;
            if end_silence(&mut tx, id, now).await? {
                bump_silences(&mut tx).await?;
            }
            let found = load_silence(&mut tx, id, now).await?;
            tx.commit().await?;
            Ok(found.map(|s| s.silence))
        }
    };
}

pub(super) use silence_writes;

/// Adds `apply_resilence`: a request of `Resilence` ops only (the silence
/// clock's) applied in a few statements rather than a few per alert, so
/// that 10,000 alerts change within the second (their history rows go
/// with the batch's, in one statement).
macro_rules! resilence_bulk {
    ($db:ty, $conn:ty) => {
        /// Sets each alert's `silenced_by` as `rules` say now, numbering the
        /// events of those that change from `*seq + 1` and adding their
        /// history rows to `history`; alerts gone since the clock looked
        /// are skipped.
        async fn apply_resilence(
            conn: &mut $conn,
            request: &[$crate::change::WriteOp],
            seq: &mut u64,
            rules: &$crate::silence::Rules,
            history: &mut Vec<(String, noc_shared::HistoryEntry)>,
        ) -> Result<Vec<$crate::change::Outcome>, $crate::store::StoreError> {
            use noc_shared::{EventKind, EventReason, HistoryEntry};
            use std::collections::BTreeMap;
            use $crate::change::{Outcome, now};
            use $crate::event::Event;
            // Binds per update, well below both backends' limits.
            const CHUNK: usize = 1000;
            let now = now();
            let ids: Vec<&str> = request.iter().map(|op| op.id()).collect();
            let mut outcomes = Vec::new();
            // New value -> the alerts that take it.
            let mut moved: BTreeMap<Option<String>, Vec<String>> = BTreeMap::new();
            // The same one-statement read as a write batch's.
            for stored in load_many(&mut *conn, &ids).await? {
                let mut alert = stored.alert;
                let wanted = rules.silencer(&alert, now).map(str::to_owned);
                if alert.silenced_by == wanted {
                    continue;
                }
                let before = std::mem::replace(&mut alert.silenced_by, wanted.clone());
                *seq += 1;
                let entry = HistoryEntry {
                    seq: *seq,
                    event: EventKind::Updated,
                    at: now,
                    by: $crate::change::SERVER.to_owned(),
                    note: None,
                    changes: BTreeMap::from([(
                        "silenced_by".to_owned(),
                        (before.into(), wanted.clone().into()),
                    )]),
                    reason: Some(EventReason::Silence),
                };
                history.push((alert.id.clone(), entry));
                let mut event = Event::new(EventKind::Updated, *seq, &alert, Some(&alert));
                event.reason = Some(EventReason::Silence);
                moved.entry(wanted).or_default().push(alert.id.clone());
                outcomes.push(Outcome {
                    alert,
                    event: Some(event),
                    flapping: None,
                    stale: false,
                    note: None,
                });
            }
            for (value, ids) in &moved {
                for chunk in ids.chunks(CHUNK) {
                    let mut sql =
                        sqlx::QueryBuilder::<$db>::new("UPDATE alerts SET silenced_by = ");
                    sql.push_bind(value.clone()).push(" WHERE id IN (");
                    let mut list = sql.separated(", ");
                    for id in chunk {
                        list.push_bind(id.clone());
                    }
                    list.push_unseparated(")");
                    sql.build().execute(&mut *conn).await?;
                }
            }
            Ok(outcomes)
        }
    };
}

pub(super) use resilence_bulk;
