-- The admin dashboard. Figures of finished days (UTC) are rolled up once from the audit log into stats_daily, so
-- the dashboard reads a few hundred small rows however many events there are; the current day is counted live.
CREATE TABLE stats_daily (
    day        date   NOT NULL,
    metric     text   NOT NULL, -- sign_ins, active_users, failures, passkey_offer, passkeys_added
    dimension  text   NOT NULL DEFAULT '', -- method, reason, provider…
    value      bigint NOT NULL,
    PRIMARY KEY (day, metric, dimension)
);
-- How far the roll-up has gone: every day up to closed_through is in stats_daily. One row, locked by the node
-- that rolls up (the others skip).
CREATE TABLE stats_state (
    id              integer PRIMARY KEY CHECK (id = 1),
    closed_through  date
);
INSERT INTO stats_state (id, closed_through) VALUES (1, NULL);
-- The totals (people, with a passkey, by provider…) as last counted: a count over every person takes a few hundred
-- milliseconds at a million, so the janitor refreshes it every few minutes and the dashboard reads it.
CREATE TABLE stats_totals (
    id           integer PRIMARY KEY CHECK (id = 1),
    computed_at  timestamptz NOT NULL,
    totals       jsonb       NOT NULL
);

-- "Link on another device": the browser that asked for the email, as a hash of its user agent, to compare with
-- the browser that opens the link.
ALTER TABLE email_flows ADD COLUMN agent_hash bytea;

-- Per-person data an operator keeps: public (apps see it in tokens and UserInfo when they ask for the metadata
-- scope) and private (admin only). Each at most 4 KiB of JSON.
ALTER TABLE users ADD COLUMN public_metadata jsonb NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN private_metadata jsonb NOT NULL DEFAULT '{}';

-- Changing a person's address: the new address is verified (a link sent to it) before it takes effect.
CREATE TABLE email_changes (
    id           uuid PRIMARY KEY,
    user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    new_email    text        NOT NULL,
    token_hash   bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    consumed_at  timestamptz,
    -- The messages it sent (the link to the new address, the notice to the old one), so that erasing the person
    -- removes them too: both addresses are theirs.
    outbox_id         bigint,
    notice_outbox_id  bigint
);
CREATE UNIQUE INDEX email_changes_token_hash_key ON email_changes (token_hash);
CREATE INDEX email_changes_user_id_idx ON email_changes (user_id);
