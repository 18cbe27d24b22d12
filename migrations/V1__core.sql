-- Sesame core schema: users, email sign-in flows, sessions, refresh tokens, signing keys, audit, outbox, rate limits.
-- Every secret (link token, code, refresh token) is stored only as a SHA-256 hash.

CREATE TABLE users (
    id               uuid PRIMARY KEY,
    email            text        NOT NULL,
    email_verified   boolean     NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_sign_in_at  timestamptz
);
-- Emails are compared case-insensitively; the application also stores them lower-cased.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE email_flows (
    id               uuid PRIMARY KEY,
    email            text        NOT NULL,
    token_hash       bytea       NOT NULL,
    code_hash        bytea       NOT NULL,
    redirect_to      text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    consumed_at      timestamptz,
    failed_attempts  integer     NOT NULL DEFAULT 0,
    ip               text
);
CREATE UNIQUE INDEX email_flows_token_hash_key ON email_flows (token_hash);
CREATE INDEX email_flows_expires_at_idx ON email_flows (expires_at);

CREATE TABLE sessions (
    id               uuid PRIMARY KEY,
    user_id          uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_method      text        NOT NULL,
    amr              text[]      NOT NULL,
    auth_time        timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_used_at     timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    revoked_at       timestamptz,
    revoked_reason   text,
    ip               text,
    user_agent       text
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);

CREATE TABLE refresh_tokens (
    token_hash       bytea PRIMARY KEY,
    session_id       uuid        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    -- Set when the token is exchanged for a new one; presenting it again is reuse.
    rotated_at       timestamptz
);
CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);

CREATE TABLE signing_keys (
    kid              text PRIMARY KEY,
    alg              text        NOT NULL,
    public_jwk       text        NOT NULL,
    -- PKCS#8 private key: plain when encryption = 'none', AES-256-GCM (nonce || ciphertext) when 'aes-gcm'.
    private_key      bytea       NOT NULL,
    encryption       text        NOT NULL CHECK (encryption IN ('none', 'aes-gcm')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    activated_at     timestamptz NOT NULL DEFAULT now(),
    -- When a newer key takes over; the key stays published until every token it signed has expired.
    retired_at       timestamptz
);

CREATE TABLE audit_events (
    id               bigserial PRIMARY KEY,
    occurred_at      timestamptz NOT NULL DEFAULT now(),
    type             text        NOT NULL,
    user_id          uuid,
    session_id       uuid,
    ip               text,
    details          jsonb       NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_events_user_id_idx ON audit_events (user_id, occurred_at);

CREATE TABLE email_outbox (
    id               bigserial PRIMARY KEY,
    recipient        text        NOT NULL,
    subject          text        NOT NULL,
    -- Bodies carry a live link and code: they are wiped once delivered (kept in development mode for /dev/mail).
    text_body        text,
    html_body        text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- Mail that can no longer be used is not worth sending.
    expires_at       timestamptz NOT NULL,
    status           text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'expired')),
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    sent_at          timestamptz
);
CREATE INDEX email_outbox_due_idx ON email_outbox (next_attempt_at) WHERE status = 'pending';

CREATE TABLE rate_limits (
    bucket           text        NOT NULL,
    window_start     timestamptz NOT NULL,
    hits             integer     NOT NULL,
    PRIMARY KEY (bucket, window_start)
);
CREATE INDEX rate_limits_window_start_idx ON rate_limits (window_start);
