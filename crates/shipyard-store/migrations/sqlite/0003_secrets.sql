-- Secrets and their versions. Values are sealed by the secret box; the key lives outside the
-- database. A deleted secret keeps the versions a release still uses, so a rollback restores
-- exactly those values.

CREATE TABLE secrets (
    id              TEXT PRIMARY KEY NOT NULL,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    scope           TEXT NOT NULL CHECK (scope IN ('workspace', 'project', 'environment')),
    project_id      TEXT REFERENCES projects (id) ON DELETE CASCADE,
    environment_id  TEXT REFERENCES environments (id) ON DELETE CASCADE,
    current_version INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    deleted_at      TEXT,
    CHECK ((scope = 'workspace' AND project_id IS NULL AND environment_id IS NULL)
        OR (scope = 'project' AND project_id IS NOT NULL AND environment_id IS NULL)
        OR (scope = 'environment' AND project_id IS NOT NULL AND environment_id IS NOT NULL))
);
-- One live secret of a name per scope and target (NULL targets compare equal through COALESCE).
CREATE UNIQUE INDEX secrets_name_key ON secrets
    (tenant_id, scope, COALESCE(project_id, ''), COALESCE(environment_id, ''), name) WHERE deleted_at IS NULL;

CREATE TABLE secret_versions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    secret_id  TEXT NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    sealed     BLOB NOT NULL,
    created_at TEXT NOT NULL,
    CONSTRAINT secret_versions_key UNIQUE (secret_id, version)
);

-- Which secret versions each release was built and runs with.
CREATE TABLE release_secret_versions (
    release_id        TEXT NOT NULL,
    secret_version_id INTEGER NOT NULL REFERENCES secret_versions (id) ON DELETE CASCADE,
    CONSTRAINT release_secret_versions_pkey PRIMARY KEY (release_id, secret_version_id)
);
CREATE INDEX release_secret_versions_version_idx ON release_secret_versions (secret_version_id);
