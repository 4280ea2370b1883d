-- Which projects' builds and instances get a database's URL and may reach it: one row per
-- project and environment, or per project with environment_id NULL (its every environment
-- but previews). A database, project or environment that goes takes its rows with it.
CREATE TABLE database_attachments (
    database_id TEXT NOT NULL REFERENCES databases(id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    environment_id TEXT REFERENCES environments(id) ON DELETE CASCADE,
    env_var TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE UNIQUE INDEX database_attachments_key
    ON database_attachments (database_id, project_id, COALESCE(environment_id, ''));
CREATE INDEX database_attachments_project ON database_attachments (project_id);
