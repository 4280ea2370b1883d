-- Tokens limited to some projects (#41): a JSON array of project ids, NULL for every project.
-- A deleted project's id stays listed and matches nothing, so the token reaches fewer
-- projects, never more.
ALTER TABLE api_tokens ADD COLUMN project_ids TEXT;
