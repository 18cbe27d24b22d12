-- Keys that backend services use to call Sesame (introspection), stored only as hashes.
CREATE TABLE service_keys (
    id            bigserial PRIMARY KEY,
    name          text        NOT NULL,
    key_hash      bytea       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
CREATE UNIQUE INDEX service_keys_key_hash_key ON service_keys (key_hash);
-- A name is unique among live keys; a revoked name can be issued again.
CREATE UNIQUE INDEX service_keys_live_name_key ON service_keys (name) WHERE revoked_at IS NULL;
