-- A refresh token remembers the token its exchange issued (successor_hash). Presented again after the reuse grace,
-- it counts as reuse only once that successor has been used: until then nobody has shown it was received (an answer
-- lost to a network drop or a crash), so the app's retry is answered and the unused successor is superseded.
-- A superseded token presented later is reuse, so a copy held by someone else is still found out (RFC 9700 §4.14.2).
ALTER TABLE refresh_tokens ADD COLUMN successor_hash bytea;
ALTER TABLE refresh_tokens ADD COLUMN superseded boolean NOT NULL DEFAULT false;
