-- Deployments, their events, the job queue and releases.

CREATE TABLE tenant_counters (
    tenant_id  TEXT PRIMARY KEY NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    deploy_seq INTEGER NOT NULL
);

CREATE TABLE deployments (
    id             TEXT PRIMARY KEY NOT NULL,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    project_id     TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    -- DEP-0001: numbered per workspace, never reused (tenant_counters keeps the high mark).
    number         INTEGER NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('queued', 'building', 'deploying', 'ready', 'failed', 'canceled')),
    branch         TEXT NOT NULL,
    commit_sha     TEXT,
    commit_message TEXT,
    note           TEXT,
    trigger        TEXT NOT NULL CHECK (trigger IN ('api', 'retry', 'webhook')),
    clear_cache    INTEGER NOT NULL DEFAULT 0,
    error          TEXT,
    release_id     TEXT,
    retry_of       TEXT,
    created_at     TEXT NOT NULL,
    started_at     TEXT,
    finished_at    TEXT,
    CONSTRAINT deployments_number_key UNIQUE (tenant_id, number)
);
CREATE INDEX deployments_project_idx ON deployments (project_id, id);
CREATE INDEX deployments_tenant_day_idx ON deployments (tenant_id, created_at);

CREATE TABLE deployment_events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    deployment_id TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    at            TEXT NOT NULL,
    type          TEXT NOT NULL,
    message       TEXT NOT NULL
);
CREATE INDEX deployment_events_deployment_idx ON deployment_events (deployment_id, id);

-- Every long task is a job; a worker holds it by a lease it renews, and cancelling is a flag
-- the lease holder watches.
CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    kind             TEXT NOT NULL,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    deployment_id    TEXT REFERENCES deployments (id) ON DELETE CASCADE,
    -- Jobs of one environment run one at a time, in order.
    lane             TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done')),
    lease_owner      TEXT,
    lease_until      TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL
);
CREATE INDEX jobs_status_idx ON jobs (status, lane, id);

CREATE TABLE releases (
    id                 TEXT PRIMARY KEY NOT NULL,
    tenant_id          TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    project_id         TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    environment_id     TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    deployment_id      TEXT,
    version            INTEGER NOT NULL,
    commit_sha         TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
    rollback_of        TEXT,
    artifact_available INTEGER NOT NULL DEFAULT 1,
    -- Build config, runtime config and secret versions the release was made with.
    config             TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    activated_at       TEXT,
    CONSTRAINT releases_version_key UNIQUE (environment_id, version)
);
