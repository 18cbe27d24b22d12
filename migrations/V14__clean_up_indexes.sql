-- The janitor deletes refresh tokens a day after they expire, in batches: this index finds them without reading
-- every token (two million of them in `bench scale`). A token's expiry never changes, so it costs one index entry
-- per refresh and nothing more.
CREATE INDEX refresh_tokens_expires_at_idx ON refresh_tokens (expires_at);
