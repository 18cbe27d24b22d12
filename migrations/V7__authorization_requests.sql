-- An email sign-in started from an authorization request carries that request, sealed (AES-GCM) by the server,
-- instead of its parts: client, redirect URI, state, PKCE challenge, scope, nonce, and now prompt and max_age too.
-- A flow started before this upgrade with an app redirect still signs in; it then goes to the account page.
ALTER TABLE email_flows ADD COLUMN authorization_request text;
ALTER TABLE email_flows DROP COLUMN redirect_to;
ALTER TABLE email_flows DROP COLUMN state;
ALTER TABLE email_flows DROP COLUMN code_challenge;
ALTER TABLE email_flows DROP COLUMN client_id;
ALTER TABLE email_flows DROP COLUMN scope;
ALTER TABLE email_flows DROP COLUMN nonce;
