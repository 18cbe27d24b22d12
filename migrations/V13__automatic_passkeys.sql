-- Automatic passkey upgrade (WebAuthn L3 conditional create): a registration ceremony says whether it was started
-- for one, since only such a ceremony may accept a credential made without user presence; a passkey remembers that
-- it was made this way (the dashboard's share of automatic upgrades).
ALTER TABLE webauthn_ceremonies ADD COLUMN conditional boolean NOT NULL DEFAULT false;
ALTER TABLE passkeys ADD COLUMN created_automatically boolean NOT NULL DEFAULT false;
