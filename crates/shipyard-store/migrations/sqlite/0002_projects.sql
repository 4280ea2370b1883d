-- Repository connections, projects and their environments.

CREATE TABLE repository_connections (
    id                    TEXT PRIMARY KEY NOT NULL,
    tenant_id             TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name                  TEXT NOT NULL,
    provider              TEXT NOT NULL CHECK (provider IN ('git')),
    url                   TEXT NOT NULL,
    default_branch        TEXT NOT NULL,
    auth_kind             TEXT NOT NULL CHECK (auth_kind IN ('none', 'token', 'ssh-key')),
    -- The credential, sealed by the secret box; the key lives outside the database.
    auth_sealed           BLOB,
    webhook_secret_sealed BLOB NOT NULL,
    created_at            TEXT NOT NULL
);
CREATE INDEX repository_connections_tenant_idx ON repository_connections (tenant_id, id);

CREATE TABLE projects (
    id                       TEXT PRIMARY KEY NOT NULL,
    tenant_id                TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name                     TEXT NOT NULL,
    slug                     TEXT NOT NULL,
    description              TEXT NOT NULL DEFAULT '',
    type                     TEXT NOT NULL CHECK (type IN ('static', 'react', 'node', 'python')),
    status                   TEXT NOT NULL CHECK (status IN ('active', 'paused', 'archived')),
    -- RESTRICT: a connection in use cannot disappear under its projects.
    repository_connection_id TEXT NOT NULL REFERENCES repository_connections (id) ON DELETE RESTRICT,
    build_config             TEXT NOT NULL,
    runtime_config           TEXT NOT NULL,
    -- What detection found at creation (framework, evidence, confidence), for the record.
    detection                TEXT,
    created_at               TEXT NOT NULL,
    updated_at               TEXT NOT NULL,
    CONSTRAINT projects_slug_key UNIQUE (tenant_id, slug)
);
CREATE INDEX projects_tenant_idx ON projects (tenant_id, id);

CREATE TABLE environments (
    id            TEXT PRIMARY KEY NOT NULL,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    project_id    TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    slug          TEXT NOT NULL,
    branch        TEXT NOT NULL,
    is_production INTEGER NOT NULL DEFAULT 0,
    -- `<project-slug>-<env-slug>`: the first label of the live host, unique in a workspace.
    host_label    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    CONSTRAINT environments_slug_key UNIQUE (project_id, slug),
    CONSTRAINT environments_host_key UNIQUE (tenant_id, host_label)
);
