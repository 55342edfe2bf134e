-- Only resolved alerts enter the index of resolved alerts: every new alert
-- (active) wrote an entry there for nothing, one more B-tree insert on the
-- hottest write. Paging (`status=resolved&before=`) and pruning
-- (`--keep-resolved`) both ask for `status = 'resolved'`, which this index
-- answers.
DROP INDEX alerts_resolved;
-- (`status` stays first: SQLite's planner then takes this index for both.)
CREATE INDEX alerts_resolved ON alerts (status, resolved_at DESC, id) WHERE status = 'resolved';
