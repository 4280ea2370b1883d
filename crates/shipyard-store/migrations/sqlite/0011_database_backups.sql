-- Backups of managed databases. The row is the backup's job: `pending` waits for the backup
-- worker, `running` one is taken again after a restart (attempt 2) or, when it was already
-- retried, failed saying it was interrupted. The file is encrypted under a key of its own,
-- sealed with the master key (`key_sealed`), so a copied backups folder holds no row in clear.
CREATE TABLE database_backups (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    database_id TEXT NOT NULL REFERENCES databases(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 1,
    key_sealed BLOB NOT NULL,
    size_bytes INTEGER,
    error TEXT,
    verified_tables INTEGER,
    verified_rows INTEGER,
    restore_verified_at TEXT,
    -- What the proof compares a restored copy with: per table its rows and a hash of them, read
    -- in the dump's own snapshot (JSON), so `verify` can prove an old backup again.
    fingerprint TEXT,
    -- The day a daily backup is for (YYYY-MM-DD, server time): one per database and day.
    day TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT,
    completed_at TEXT
);
CREATE INDEX database_backups_database ON database_backups (database_id, id);
CREATE INDEX database_backups_status ON database_backups (status);
CREATE UNIQUE INDEX database_backups_day ON database_backups (database_id, day) WHERE day IS NOT NULL;

-- Restores of backups, jobs of the same worker. A `same` restore first takes the backup named
-- by `before_backup_id`; a `new` one makes `target_database_id` first.
CREATE TABLE database_restores (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    database_id TEXT NOT NULL REFERENCES databases(id) ON DELETE CASCADE,
    backup_id TEXT NOT NULL REFERENCES database_backups(id) ON DELETE CASCADE,
    target TEXT NOT NULL,
    target_database_id TEXT REFERENCES databases(id) ON DELETE SET NULL,
    before_backup_id TEXT REFERENCES database_backups(id) ON DELETE SET NULL,
    status TEXT NOT NULL,
    error TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT,
    completed_at TEXT
);
CREATE INDEX database_restores_database ON database_restores (database_id, id);
CREATE INDEX database_restores_status ON database_restores (status);
