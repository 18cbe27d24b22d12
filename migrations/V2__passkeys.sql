-- Passkeys (WebAuthn credentials) and the server-side state of WebAuthn ceremonies.

-- The WebAuthn user handle (user.id in the creation options): random, stable per user, never the email (§14.6.1).
ALTER TABLE users ADD COLUMN webauthn_user_handle bytea NOT NULL DEFAULT uuid_send(gen_random_uuid());
CREATE UNIQUE INDEX users_webauthn_user_handle_key ON users (webauthn_user_handle);

CREATE TABLE passkeys (
    id                  uuid PRIMARY KEY,
    user_id             uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id       bytea       NOT NULL,
    public_key          bytea       NOT NULL,      -- COSE_Key, as the authenticator sent it
    algorithm           integer     NOT NULL,      -- COSE algorithm identifier (-7 ES256, -8 EdDSA, -257 RS256)
    sign_count          bigint      NOT NULL,
    transports          text[]      NOT NULL DEFAULT '{}',
    aaguid              uuid,
    backup_eligible     boolean     NOT NULL,
    backup_state        boolean     NOT NULL,
    uv_initialized      boolean     NOT NULL,
    attestation_format  text        NOT NULL,
    name                text        NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    last_used_at        timestamptz
);
-- A credential id belongs to one account, ever (WebAuthn L3 §7.1 step 26).
CREATE UNIQUE INDEX passkeys_credential_id_key ON passkeys (credential_id);
CREATE INDEX passkeys_user_id_idx ON passkeys (user_id);

CREATE TABLE webauthn_ceremonies (
    id          uuid PRIMARY KEY,
    type        text        NOT NULL CHECK (type IN ('registration', 'authentication')),
    challenge   bytea       NOT NULL,
    user_id     uuid        REFERENCES users (id) ON DELETE CASCADE,  -- registration: who started it
    name        text,                                                  -- registration: the name asked for
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX webauthn_ceremonies_expires_at_idx ON webauthn_ceremonies (expires_at);

-- Server-wide random secrets shared by every node (e.g. the key for pseudo credential ids of unknown emails).
CREATE TABLE server_secrets (
    name        text PRIMARY KEY,
    value       bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
