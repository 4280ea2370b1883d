-- Custom domains (#36): what the last look at a hostname's CNAME/A/AAAA records saw (a JSON
-- array), whether they send it here, why the look failed if it did, and when to look again
-- (the re-check takes the rows whose time has come); and since when a verified domain's TXT
-- record has been gone (it is unverified after a grace, so a name's new owner can have it).
ALTER TABLE domains ADD COLUMN dns_observed TEXT NOT NULL DEFAULT '[]';
ALTER TABLE domains ADD COLUMN points_here INTEGER NOT NULL DEFAULT 0;
ALTER TABLE domains ADD COLUMN dns_error TEXT;
ALTER TABLE domains ADD COLUMN checked_at TEXT;
ALTER TABLE domains ADD COLUMN next_check_at TEXT;
ALTER TABLE domains ADD COLUMN proof_missing_since TEXT;
CREATE INDEX domains_next_check ON domains (next_check_at);
