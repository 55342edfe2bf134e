//! What both SQL backends share for silences: the row, its conversion, and
//! the queries, written once (see [`silence_sql`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use noc_shared::{Matcher, Silence, SilenceState};

use super::StoreError;
use crate::silence::{Rule, Rules};
use crate::sites::SiteGroups;

/// The live silences compiled, as of a value of the `silences` counter:
/// each write transaction reads the counter (one row) and compiles the
/// silences again only when another write, on any instance, changed them.
#[derive(Debug)]
pub struct RulesCache {
    state: Mutex<(i64, Arc<Rules>)>,
}

impl Default for RulesCache {
    fn default() -> Self {
        RulesCache {
            state: Mutex::new((-1, Arc::new(Rules::default()))),
        }
    }
}

impl RulesCache {
    /// The rules compiled at counter value `version`, if those are held.
    pub fn at(&self, version: i64) -> Option<Arc<Rules>> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        (state.0 == version).then(|| state.1.clone())
    }

    /// Compiles `live` as the rules of counter value `version`.
    pub fn compile(&self, version: i64, live: Vec<StoredSilence>) -> Arc<Rules> {
        let rules = live
            .iter()
            .filter_map(|s| {
                let groups = SiteGroups::new(s.site_groups.clone());
                Rule::compile(&s.silence, &groups)
                    .inspect_err(|e| {
                        tracing::error!(silence_id = %s.silence.id, error = %e, "stored silence does not compile; it is ignored");
                    })
                    .ok()
            })
            .collect();
        let rules = Arc::new(Rules::new(rules));
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = (version, rules.clone());
        rules
    }
}

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
/// Expands to `list_silences`, `load_silence`, `live_silences`,
/// `current_rules`, `silence_mismatches`, `next_silence_change`,
/// `count_live`, `insert_silence`, `end_silence` and `bump_silences` in the calling
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

        /// The silences active or pending at `now`.
        async fn live_silences(
            conn: &mut $conn,
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<Vec<$crate::store::silences::StoredSilence>, $crate::store::StoreError> {
            use $crate::store::silences::{COLUMNS, SilenceRow};
            let sql = format!("SELECT {COLUMNS} FROM silences WHERE ends_at > $1");
            let rows: Vec<SilenceRow> = sqlx::query_as(&sql)
                .bind(now.timestamp_millis())
                .fetch_all(conn)
                .await?;
            rows.into_iter().map(|r| r.into_silence(now)).collect()
        }

        /// The live silences compiled, read in `conn`'s transaction; `cache`
        /// spares compiling them again while they have not changed.
        async fn current_rules(
            conn: &mut $conn,
            cache: &$crate::store::silences::RulesCache,
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<std::sync::Arc<$crate::silence::Rules>, $crate::store::StoreError> {
            let version: i64 =
                sqlx::query_scalar("SELECT value FROM counters WHERE name = 'silences'")
                    .fetch_one(&mut *conn)
                    .await?;
            if let Some(rules) = cache.at(version) {
                return Ok(rules);
            }
            let live = live_silences(conn, now).await?;
            Ok(cache.compile(version, live))
        }

        /// The ops that bring every alert's `silenced_by` to what the live
        /// silences say at `now`: one per alert that differs.
        async fn silence_mismatches(
            pool: &sqlx::Pool<$db>,
            cache: &$crate::store::silences::RulesCache,
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<Vec<$crate::change::WriteOp>, $crate::store::StoreError> {
            use $crate::change::{Action, Actor, WriteOp};
            let mut conn = pool.acquire().await?;
            let rules = current_rules(&mut conn, cache, now).await?;
            let sql = format!(
                "SELECT {} FROM alerts WHERE status = 'active' OR silenced_by IS NOT NULL",
                *$crate::store::rows::COLUMNS
            );
            let rows: Vec<$crate::store::rows::AlertRow> =
                sqlx::query_as(&sql).fetch_all(&mut *conn).await?;
            let mut ops = Vec::new();
            for row in rows {
                let stored = $crate::change::StoredAlert::try_from(row)?;
                let alert = &stored.alert;
                if alert.silenced_by.as_deref() != rules.silencer(alert, now) {
                    let id = alert.id.clone();
                    ops.push(WriteOp::new(Actor::Server, Action::Resilence { id }));
                }
            }
            Ok(ops)
        }

        /// The first time after `after` at which a silence starts or ends.
        async fn next_silence_change(
            pool: &sqlx::Pool<$db>,
            after: chrono::DateTime<chrono::Utc>,
        ) -> Result<Option<chrono::DateTime<chrono::Utc>>, $crate::store::StoreError> {
            let found: Option<i64> = sqlx::query_scalar(
                "SELECT MIN(t) FROM (\
                 SELECT MIN(starts_at) AS t FROM silences WHERE starts_at > $1 \
                 UNION ALL \
                 SELECT MIN(ends_at) AS t FROM silences WHERE ends_at > $1\
                 ) AS next",
            )
            .bind(after.timestamp_millis())
            .fetch_one(pool)
            .await?;
            Ok(found.and_then(chrono::DateTime::from_timestamp_millis))
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
