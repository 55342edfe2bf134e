//! What is due on the clock in the store, the same SQL on both backends:
//! an alert's expiry, its ack's lapse, the end of its flapping.

/// Expands to `next_deadline` and `due` for one backend.
macro_rules! due_sql {
    ($db:ty) => {
        /// The earliest time an alert is due on the clock: it expires, its
        /// ack lapses (resolving clears both, so only active alerts have
        /// them), or its flapping ends (a window after its last change).
        async fn next_deadline(
            pool: &sqlx::Pool<$db>,
        ) -> Result<Option<chrono::DateTime<chrono::Utc>>, $crate::store::StoreError> {
            let found: Option<i64> = sqlx::query_scalar(
                "SELECT MIN(t) FROM (\
                 SELECT MIN(expires_at) AS t FROM alerts WHERE expires_at IS NOT NULL \
                 UNION ALL \
                 SELECT MIN(ack_expires_at) AS t FROM alerts WHERE ack_expires_at IS NOT NULL \
                 UNION ALL \
                 SELECT MIN(flap_changed_at) + $1 AS t FROM alerts WHERE flapping\
                 ) AS due",
            )
            .bind(flap_window_ms())
            .fetch_one(pool)
            .await?;
            Ok(found.and_then(chrono::DateTime::from_timestamp_millis))
        }

        /// The clock's ops due at `now`, at most `max` of each kind.
        async fn due(
            pool: &sqlx::Pool<$db>,
            now: chrono::DateTime<chrono::Utc>,
            max: usize,
        ) -> Result<Vec<$crate::change::WriteOp>, $crate::store::StoreError> {
            use $crate::change::{Action, Actor, WriteOp};
            let ids = |column: &str| {
                format!(
                    "SELECT id FROM alerts WHERE {column} IS NOT NULL AND {column} <= $1 \
                     ORDER BY {column} LIMIT $2"
                )
            };
            let now = now.timestamp_millis();
            let max = $crate::store::rows::limit(max);
            let expired: Vec<String> = sqlx::query_scalar(&ids("expires_at"))
                .bind(now)
                .bind(max)
                .fetch_all(pool)
                .await?;
            let lapsed: Vec<String> = sqlx::query_scalar(&ids("ack_expires_at"))
                .bind(now)
                .bind(max)
                .fetch_all(pool)
                .await?;
            let quiet: Vec<String> = sqlx::query_scalar(
                "SELECT id FROM alerts WHERE flapping AND flap_changed_at <= $1 \
                 ORDER BY flap_changed_at LIMIT $2",
            )
            .bind(now - flap_window_ms())
            .bind(max)
            .fetch_all(pool)
            .await?;
            let ops = expired
                .into_iter()
                .map(|id| Action::Expire { id })
                .chain(lapsed.into_iter().map(|id| Action::AckLapse { id }))
                .chain(quiet.into_iter().map(|id| Action::FlapQuiet { id }))
                .map(|action| WriteOp::new(Actor::Server, action))
                .collect();
            Ok(ops)
        }

        fn flap_window_ms() -> i64 {
            i64::try_from($crate::change::flap::window().as_millis()).unwrap_or(i64::MAX)
        }

    };
}

pub(super) use due_sql;
