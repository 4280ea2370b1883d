-- What a token may do (#41): its scopes, comma-separated (`write` for every token made before,
-- which keeps them working as they did), and the address it was last used from.
ALTER TABLE api_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT 'write';
ALTER TABLE api_tokens ADD COLUMN last_used_ip TEXT;
