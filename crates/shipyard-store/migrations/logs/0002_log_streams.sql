-- Who each stream belongs to and how many bytes of text it holds, so a workspace's logs can be
-- bounded in all (`--log-bytes-per-workspace`): its oldest lines go first.
CREATE TABLE log_streams (
    stream TEXT NOT NULL,
    tenant TEXT NOT NULL,
    bytes  INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT log_streams_pkey PRIMARY KEY (stream)
) WITHOUT ROWID;
CREATE INDEX log_streams_tenant ON log_streams (tenant);
