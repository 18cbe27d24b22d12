-- Operators. A service key may carry scopes for the admin API (none: introspection only, as before); a person may
-- hold the admin role; every audit event says who acted when it was not the person themselves.
ALTER TABLE service_keys ADD COLUMN scopes text[] NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN roles text[] NOT NULL DEFAULT '{}';
-- A disabled person cannot sign in (and was signed out everywhere when disabled); an operator can enable them again.
ALTER TABLE users ADD COLUMN disabled_at timestamptz;
ALTER TABLE audit_events ADD COLUMN actor text; -- 'key:<name>', 'admin:<user id>', 'cli'; NULL: the person or Sesame

-- The admin users list: keyset paging in creation order, and email prefix search.
CREATE INDEX users_created_at_id_idx ON users (created_at, id);
CREATE INDEX users_email_prefix_idx ON users (lower(email) text_pattern_ops);
