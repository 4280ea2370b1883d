-- Password rotation: the tenant's login takes turns between its owner role and a second login
-- role (a member of it that acts as it), so the old password stays valid for a grace period
-- while the new one works at once. `username` is the login the URL names now; `owner_role`
-- owns the database and everything in it (NULL: the username, as made).
ALTER TABLE databases ADD COLUMN owner_role TEXT;
ALTER TABLE databases ADD COLUMN previous_username TEXT;
ALTER TABLE databases ADD COLUMN previous_valid_until TEXT;
