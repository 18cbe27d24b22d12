-- One-time authorization codes (RFC 6749 §4.1, PKCE RFC 7636) for apps that sign users in through the hosted /login.

CREATE TABLE authorization_codes (
    code_hash          bytea PRIMARY KEY,
    session_id         uuid        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,  -- the sign-in it came from
    redirect_uri       text        NOT NULL,
    code_challenge     text,                                                             -- S256, when given
    created_at         timestamptz NOT NULL DEFAULT now(),
    expires_at         timestamptz NOT NULL,
    consumed_at        timestamptz,
    issued_session_id  uuid                                                              -- the app's session
);
CREATE INDEX authorization_codes_expires_at_idx ON authorization_codes (expires_at);

-- The hosted pages carry the app's redirect through the email link.
ALTER TABLE email_flows ADD COLUMN state text;
ALTER TABLE email_flows ADD COLUMN code_challenge text;
