-- Custom domains (#36): a hostname (ASCII, lowercase, no root dot) of an environment, proven
-- by a TXT record holding `challenge`. A hostname may be pending in several workspaces, once per
-- project; only one row anywhere may hold it verified.
CREATE TABLE domains (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    hostname TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'verified', 'failed')),
    challenge TEXT NOT NULL,
    error TEXT,
    created_at TEXT NOT NULL,
    verified_at TEXT,
    CONSTRAINT domains_hostname_key UNIQUE (project_id, hostname)
);
CREATE UNIQUE INDEX domains_verified_key ON domains (hostname) WHERE status = 'verified';
CREATE INDEX domains_environment ON domains (environment_id);
