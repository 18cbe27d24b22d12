-- Hardening: rate limits as GCRA, sign-in challenges without ceremony rows, email flows found by address.

-- Rate limits: one row per bucket holding its theoretical arrival time (GCRA). A bucket whose time has passed is
-- the same as no row, so the janitor drops those. Replaces the fixed-window counters, which let twice the limit
-- through across a window boundary.
DROP TABLE rate_limits;
CREATE TABLE rate_limits (
    bucket  text PRIMARY KEY,
    tat     timestamptz NOT NULL
);
CREATE INDEX rate_limits_tat_idx ON rate_limits (tat);

-- Sign-in challenges travel sealed in the ceremony id; the one that verifies records its challenge here, in the same
-- transaction, so each is answered once. Rows outlive the challenge's own expiry only until the janitor passes.
CREATE TABLE used_challenges (
    challenge   bytea PRIMARY KEY,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX used_challenges_expires_at_idx ON used_challenges (expires_at);
-- Sign-in ceremonies no longer have rows; registration ceremonies still do.
DELETE FROM webauthn_ceremonies WHERE type = 'authentication';

-- A successful email sign-in ends the person's other pending flows.
CREATE INDEX email_flows_pending_email_idx ON email_flows (email) WHERE consumed_at IS NULL;

-- Readiness: each node writes its row here every second over its own connection. Unlogged (no WAL, no fsync), yet a
-- read-only database or a standby refuses the write, which is what readiness must notice.
CREATE UNLOGGED TABLE readiness_probes (
    node  text PRIMARY KEY,
    at    timestamptz NOT NULL
);
