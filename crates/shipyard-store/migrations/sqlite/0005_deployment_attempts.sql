-- A build interrupted by a platform restart (or an expired lease) is queued again once;
-- `attempt` says which run this is (CONTRACT.md, "Deployment state machine").
ALTER TABLE deployments ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1 CHECK (attempt IN (1, 2));
