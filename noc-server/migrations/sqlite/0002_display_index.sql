-- A snapshot of all sites reads the active alerts in display order (most
-- severe, then newest) and stops at its limit: with this index it walks
-- the first thousand entries instead of sorting every active alert.
CREATE INDEX alerts_active_display ON alerts (status, severity, created_at DESC, id);
