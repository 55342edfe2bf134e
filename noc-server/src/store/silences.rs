//! What both SQL backends share for silences: the row, its conversion, and
//! the queries, written once (see [`silence_sql`]).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use noc_shared::{Matcher, Silence, SilenceState};

use super::StoreError;

/// The columns of `silences`, in [`SilenceRow`]'s order.
pub const COLUMNS: &str = "id, matchers, site_groups, starts_at, ends_at, created_by, comment";

/// A silence as the API shows it, with the site groups its matchers named
/// as they were when it was made (so that it keeps meaning what it meant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSilence {
    pub silence: Silence,
    /// Lower-cased group name → its sites.
    pub site_groups: HashMap<String, Vec<String>>,
}

/// A silence as stored: times in unix milliseconds, matchers and groups as
/// JSON text.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SilenceRow {
    pub id: String,
    pub matchers: String,
    pub site_groups: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub created_by: String,
    pub comment: String,
}

impl SilenceRow {
    pub fn new(s: &StoredSilence) -> Result<Self, StoreError> {
        let json = |v: serde_json::Result<String>| {
            v.map_err(|e| StoreError::Corrupt {
                id: s.silence.id.clone(),
                what: e.to_string(),
            })
        };
        Ok(SilenceRow {
            id: s.silence.id.clone(),
            matchers: json(serde_json::to_string(&s.silence.matchers))?,
            site_groups: json(serde_json::to_string(&s.site_groups))?,
            starts_at: s.silence.starts_at.timestamp_millis(),
            ends_at: s.silence.ends_at.timestamp_millis(),
            created_by: s.silence.created_by.clone(),
            comment: s.silence.comment.clone(),
        })
    }

    /// The silence, with its state at `now`.
    pub fn into_silence(self, now: DateTime<Utc>) -> Result<StoredSilence, StoreError> {
        let corrupt = |what: String| StoreError::Corrupt {
            id: self.id.clone(),
            what,
        };
        let time = |ms: i64| {
            DateTime::<Utc>::from_timestamp_millis(ms)
                .ok_or_else(|| corrupt("time out of range".into()))
        };
        let matchers: Vec<Matcher> =
            serde_json::from_str(&self.matchers).map_err(|e| corrupt(format!("matchers: {e}")))?;
        let site_groups = serde_json::from_str(&self.site_groups)
            .map_err(|e| corrupt(format!("site_groups: {e}")))?;
        let (starts_at, ends_at) = (time(self.starts_at)?, time(self.ends_at)?);
        Ok(StoredSilence {
            silence: Silence {
                id: self.id,
                matchers,
                starts_at,
                ends_at,
                created_by: self.created_by,
                comment: self.comment,
                state: SilenceState::at(now, starts_at, ends_at),
            },
            site_groups,
        })
    }
}

/// The `WHERE` and `ORDER BY` of a list of silences in `state` at `$1`
/// (now): live ones soonest-ending first, expired ones latest-ended first.
pub fn list_clause(state: Option<SilenceState>) -> &'static str {
    match state {
        Some(SilenceState::Active) => {
            " WHERE starts_at <= $1 AND ends_at > $1 ORDER BY ends_at ASC, id ASC"
        }
        Some(SilenceState::Pending) => " WHERE starts_at > $1 ORDER BY starts_at ASC, id ASC",
        Some(SilenceState::Expired) => " WHERE ends_at <= $1 ORDER BY ends_at DESC, id DESC",
        None => " WHERE $1 = $1 ORDER BY ends_at DESC, id DESC",
    }
}

/// The silence queries, the same SQL on SQLite and PostgreSQL, expanded
/// for each backend's connection type as [`super::rows::sql_backend`] is.
///
/// Expands to `list_silences`, `load_silence`, `count_live`,
/// `insert_silence`, `end_silence` and `bump_silences` in the calling
/// module.
macro_rules! silence_sql {
    ($db:ty, $conn:ty) => {
        /// Silences in `state` at `now` (every one for `None`), at most `max`.
        async fn list_silences(
            pool: &sqlx::Pool<$db>,
            state: Option<noc_shared::SilenceState>,
            now: chrono::DateTime<chrono::Utc>,
            max: usize,
        ) -> Result<Vec<noc_shared::Silence>, $crate::store::StoreError> {
            use $crate::store::silences::{COLUMNS, SilenceRow, list_clause};
            let sql = format!(
                "SELECT {COLUMNS} FROM silences{} LIMIT $2",
                list_clause(state)
            );
            let rows: Vec<SilenceRow> = sqlx::query_as(&sql)
                .bind(now.timestamp_millis())
                .bind($crate::store::rows::limit(max))
                .fetch_all(pool)
                .await?;
            rows.into_iter()
                .map(|r| r.into_silence(now).map(|s| s.silence))
                .collect()
        }

        async fn load_silence(
            conn: &mut $conn,
            id: &str,
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<Option<$crate::store::silences::StoredSilence>, $crate::store::StoreError> {
            use $crate::store::silences::{COLUMNS, SilenceRow};
            let sql = format!("SELECT {COLUMNS} FROM silences WHERE id = $1");
            let row: Option<SilenceRow> =
                sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?;
            row.map(|r| r.into_silence(now)).transpose()
        }

        /// How many silences are active or pending at `now`.
        async fn count_live(
            conn: &mut $conn,
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<usize, $crate::store::StoreError> {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM silences WHERE ends_at > $1")
                .bind(now.timestamp_millis())
                .fetch_one(conn)
                .await?;
            Ok(usize::try_from(n).unwrap_or(usize::MAX))
        }

        async fn insert_silence(
            conn: &mut $conn,
            s: &$crate::store::silences::StoredSilence,
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<(), $crate::store::StoreError> {
            let r = $crate::store::silences::SilenceRow::new(s)?;
            sqlx::query(
                "INSERT INTO silences (id, matchers, site_groups, starts_at, ends_at, \
                 created_by, comment, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(r.id)
            .bind(r.matchers)
            .bind(r.site_groups)
            .bind(r.starts_at)
            .bind(r.ends_at)
            .bind(r.created_by)
            .bind(r.comment)
            .bind(now.timestamp_millis())
            .execute(conn)
            .await?;
            Ok(())
        }

        /// Ends silence `id` at `now` if it has not ended: a pending one
        /// starts and ends at `now`. Returns whether it changed.
        async fn end_silence(
            conn: &mut $conn,
            id: &str,
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<bool, $crate::store::StoreError> {
            let done = sqlx::query(
                "UPDATE silences SET ends_at = $2, \
                 starts_at = CASE WHEN starts_at > $2 THEN $2 ELSE starts_at END \
                 WHERE id = $1 AND ends_at > $2",
            )
            .bind(id)
            .bind(now.timestamp_millis())
            .execute(conn)
            .await?;
            Ok(done.rows_affected() > 0)
        }

        /// Marks a change of the silences for every instance's write path.
        async fn bump_silences(conn: &mut $conn) -> Result<(), $crate::store::StoreError> {
            sqlx::query("UPDATE counters SET value = value + 1 WHERE name = 'silences'")
                .execute(conn)
                .await?;
            Ok(())
        }
    };
}

pub(super) use silence_sql;

/// Adds to [`silence_sql`]'s functions the two whole transactions of the
/// API's writes, `create_silence` and `delete_silence`.
macro_rules! silence_writes {
    ($db:ty) => {
        /// Stores a new silence unless [`crate::silence::MAX_LIVE`] are
        /// live already (`Ok(Err(message))`).
        async fn create_silence(
            pool: &sqlx::Pool<$db>,
            s: &$crate::store::silences::StoredSilence,
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<Result<noc_shared::Silence, String>, $crate::store::StoreError> {
            let mut tx = pool.begin().await?;
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
            let mut tx = pool.begin().await?;
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
