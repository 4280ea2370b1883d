-- Log lines, kept apart from the main database so a chatty build never slows the API.
-- A stream is `build:<deployment>`, `runtime:<release>` or `access:<environment>`.
CREATE TABLE log_lines (
    stream TEXT NOT NULL,
    seq    INTEGER NOT NULL,
    at     TEXT NOT NULL,
    kind   TEXT NOT NULL CHECK (kind IN ('stdout', 'stderr', 'system')),
    line   TEXT NOT NULL,
    CONSTRAINT log_lines_pkey PRIMARY KEY (stream, seq)
) WITHOUT ROWID;
