-- OAuth 2 / OpenID Connect clients (RFC 7591 metadata). A confidential client's secret is stored only as a SHA-256
-- hash (secrets are 256-bit random, or at least 32 characters when an operator supplies one).
CREATE TABLE oauth_clients (
    client_id                     text PRIMARY KEY,
    client_name                   text        NOT NULL,
    secret_hash                   bytea,       -- NULL exactly when token_endpoint_auth_method = 'none'
    token_endpoint_auth_method    text        NOT NULL
        CHECK (token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post', 'none')),
    redirect_uris                 text[]      NOT NULL,
    post_logout_redirect_uris     text[]      NOT NULL DEFAULT '{}',
    grant_types                   text[]      NOT NULL,
    scopes                        text[]      NOT NULL,
    web_origins                   text[]      NOT NULL DEFAULT '{}',
    id_token_signed_response_alg  text        NOT NULL DEFAULT 'RS256',
    backchannel_logout_uri        text,
    -- Who manages it: the CLI or admin API ('managed'), SESAME_CLIENTS_FILE ('file'), or dynamic registration.
    source                        text        NOT NULL CHECK (source IN ('managed', 'file', 'dynamic')),
    created_at                    timestamptz NOT NULL DEFAULT now(),
    updated_at                    timestamptz NOT NULL DEFAULT now(),
    CHECK ((secret_hash IS NULL) = (token_endpoint_auth_method = 'none'))
);

-- Codes, sessions and email flows name the client they are for; NULL is the built-in first-party client (the hosted
-- pages and <sesame-auth>), whose id is SESAME_CLIENT_ID.
ALTER TABLE authorization_codes ADD COLUMN client_id text;
ALTER TABLE sessions ADD COLUMN client_id text;
ALTER TABLE email_flows ADD COLUMN client_id text;

-- OpenID Connect: what a code was asked for (scopes, the client's nonce), carried into the session it starts.
ALTER TABLE authorization_codes ADD COLUMN scope text[];
ALTER TABLE authorization_codes ADD COLUMN nonce text;
ALTER TABLE sessions ADD COLUMN scope text[];
ALTER TABLE email_flows ADD COLUMN scope text;
ALTER TABLE email_flows ADD COLUMN nonce text;
