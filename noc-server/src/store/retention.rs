//! `--keep-resolved` in the store: one small batch of old resolved alerts
//! deleted with their notes and history, the same SQL on both backends.

/// Expands to `prune_resolved` for one backend.
macro_rules! retention_sql {
    ($db:ty) => {
        /// Deletes, inside `tx`, up to `batch` alerts resolved before
        /// `before` (unix ms), oldest first, with their notes and history.
        /// An alert re-opened meanwhile is not resolved any more, and stays.
        async fn prune_resolved_in(
            tx: &mut sqlx::Transaction<'_, $db>,
            before: i64,
            batch: usize,
        ) -> Result<usize, $crate::store::StoreError> {
            let gone: Vec<String> = sqlx::query_scalar(
                "DELETE FROM alerts WHERE id IN (SELECT id FROM alerts \
                 WHERE status = 'resolved' AND resolved_at < $1 \
                 ORDER BY resolved_at LIMIT $2) \
                 AND status = 'resolved' AND resolved_at < $1 RETURNING id",
            )
            .bind(before)
            .bind($crate::store::rows::limit(batch))
            .fetch_all(&mut **tx)
            .await?;
            if gone.is_empty() {
                return Ok(0);
            }
            for table in ["notes", "history"] {
                let mut sql = sqlx::QueryBuilder::<$db>::new(format!(
                    "DELETE FROM {table} WHERE alert_id IN ("
                ));
                let mut ids = sql.separated(", ");
                for id in &gone {
                    ids.push_bind(id.clone());
                }
                ids.push_unseparated(")");
                sql.build().execute(&mut **tx).await?;
            }
            Ok(gone.len())
        }
    };
}

pub(super) use retention_sql;
