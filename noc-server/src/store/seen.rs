//! What both SQL backends share for the sources' signs of life: the
//! `sources` table (when each was last heard) and the count of each
//! source's active alerts, written once (see [`seen_sql`]).

/// The queries of the `sources` table, expanded for each backend as
/// [`super::sql::sql_backend`] is: `save_seen`, `load_seen` and
/// `active_by_source` in the calling module.
macro_rules! seen_sql {
    ($db:ty) => {
        /// Stores each (name, time) unless a later time is stored already,
        /// inside the caller's write transaction.
        async fn save_seen(
            tx: &mut sqlx::Transaction<'_, $db>,
            seen: &[(String, chrono::DateTime<chrono::Utc>)],
        ) -> Result<(), $crate::store::StoreError> {
            for (name, at) in seen {
                sqlx::query(
                    "INSERT INTO sources (name, last_seen_at) VALUES ($1, $2) \
                     ON CONFLICT (name) DO UPDATE SET last_seen_at = excluded.last_seen_at \
                     WHERE excluded.last_seen_at > sources.last_seen_at",
                )
                .bind(name)
                .bind(at.timestamp_millis())
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        }

        async fn load_seen(
            pool: &sqlx::Pool<$db>,
        ) -> Result<Vec<(String, chrono::DateTime<chrono::Utc>)>, $crate::store::StoreError> {
            let rows: Vec<(String, i64)> = sqlx::query_as("SELECT name, last_seen_at FROM sources")
                .fetch_all(pool)
                .await?;
            Ok(rows
                .into_iter()
                .filter_map(|(name, ms)| {
                    chrono::DateTime::from_timestamp_millis(ms).map(|at| (name, at))
                })
                .collect())
        }

        async fn active_by_source(
            pool: &sqlx::Pool<$db>,
        ) -> Result<std::collections::HashMap<String, u64>, $crate::store::StoreError> {
            let rows: Vec<(String, i64)> = sqlx::query_as(
                "SELECT source, COUNT(*) FROM alerts WHERE status = 'active' GROUP BY source",
            )
            .fetch_all(pool)
            .await?;
            Ok(rows
                .into_iter()
                .map(|(source, n)| (source, u64::try_from(n).unwrap_or_default()))
                .collect())
        }
    };
}

pub(super) use seen_sql;
