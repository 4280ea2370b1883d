-- How much memory (MiB) the instances of a workspace's active releases may take together.
ALTER TABLE tenants ADD COLUMN memory_mb_limit INTEGER NOT NULL DEFAULT 8192;
