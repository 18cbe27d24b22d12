-- The person's name, as they give it on the account page: apps that ask for the OpenID Connect `profile` scope get
-- `given_name`, `family_name` and `name` (Core §5.1, §5.4). Optional; at most 100 characters each (checked in Java
-- as well, with the characters a name may have).
ALTER TABLE users ADD COLUMN given_name text CHECK (length(given_name) <= 100);
ALTER TABLE users ADD COLUMN family_name text CHECK (length(family_name) <= 100);
