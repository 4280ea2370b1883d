-- Managed databases: one PostgreSQL cluster each. The port and the uid stay the database's
-- for its whole life (the uid is also recorded in sandbox_uids, so no project ever gets it).
CREATE TABLE databases (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    engine TEXT NOT NULL,
    version TEXT NOT NULL,
    status TEXT NOT NULL,
    port INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    database_name TEXT NOT NULL,
    username TEXT NOT NULL,
    password_sealed BLOB NOT NULL,
    superuser_password_sealed BLOB NOT NULL,
    memory_mb INTEGER NOT NULL,
    disk_mb INTEGER NOT NULL,
    error TEXT,
    last_exit_reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT databases_name_key UNIQUE (tenant_id, name),
    CONSTRAINT databases_port_key UNIQUE (port)
);

-- How many databases a workspace may hold (PATCH /admin/tenants/<t>).
ALTER TABLE tenants ADD COLUMN max_databases INTEGER NOT NULL DEFAULT 5;
