-- What the flapping rule keeps of an alert: its last resolve times (a JSON
-- array of unix milliseconds, oldest first; NULL when none) and when it
-- last changed state. A flapping alert stops flapping a window after that
-- change: the clock looks for the earliest, among flapping alerts only.
ALTER TABLE alerts ADD COLUMN flap_resolves TEXT;
ALTER TABLE alerts ADD COLUMN flap_changed_at BIGINT;
CREATE INDEX alerts_flapping ON alerts (flap_changed_at) WHERE flapping;
