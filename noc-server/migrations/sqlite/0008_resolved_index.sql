-- Resolved alerts are paged back in time (`status=resolved&before=`) and
-- pruned oldest first (`--keep-resolved`): both walk this index instead of
-- sorting every resolved alert.
CREATE INDEX alerts_resolved ON alerts (status, resolved_at DESC, id);
