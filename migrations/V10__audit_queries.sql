-- The admin audit log: newest first by type, address or time, and retention (SESAME_AUDIT_RETENTION) by time.
CREATE INDEX audit_events_occurred_at_idx ON audit_events (occurred_at);
CREATE INDEX audit_events_type_idx ON audit_events (type, id);
CREATE INDEX audit_events_ip_idx ON audit_events (ip, id) WHERE ip IS NOT NULL;
