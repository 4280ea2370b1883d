-- The uid each project's sandboxes run as. No foreign key: a row outlives its project, so a
-- uid is never handed to another project (whose files would then be the old one's).
CREATE TABLE sandbox_uids (
    uid INTEGER PRIMARY KEY,
    project_id TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
