-- Single logout: a client's session remembers the hosted-page session (the person's sign-in at Sesame) it was
-- started from, so that ending that sign-in ends the sessions it gave to apps.
ALTER TABLE sessions ADD COLUMN origin_session_id uuid;
CREATE INDEX sessions_origin_session_id_idx ON sessions (origin_session_id) WHERE origin_session_id IS NOT NULL;

-- OpenID Connect Back-Channel Logout 1.0: a notice for each ended session of a client that registered a
-- backchannel_logout_uri, written in the transaction that ends the session and delivered from here with retries.
-- The logout token is made at delivery (signed with the keys of that moment, iat fresh).
CREATE TABLE logout_notices (
    id               bigserial PRIMARY KEY,
    client_id        text        NOT NULL,
    uri              text        NOT NULL,
    user_id          uuid        NOT NULL,
    session_id       uuid        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    attempts         integer     NOT NULL DEFAULT 0,
    delivered_at     timestamptz,
    failed_at        timestamptz,
    last_error       text
);
CREATE INDEX logout_notices_due_idx ON logout_notices (next_attempt_at)
    WHERE delivered_at IS NULL AND failed_at IS NULL;
