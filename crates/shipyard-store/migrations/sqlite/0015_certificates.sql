-- HTTPS (#39): a certificate per hostname, issued by ACME once the hostname is a verified domain
-- that points here. It belongs to the name, not to the domain row: a name verified again
-- elsewhere keeps its certificate, and a deleted domain's certificate is simply no longer served.
-- `chain_pem` (leaf first), `key_sealed` (the secret box) and `not_after` describe the
-- certificate being served, if any; `order_url` an order in flight (resumed after a restart, never
-- ordered twice); `error`, `failures` and `next_attempt_at` the last failure and when to try again.
CREATE TABLE certificates (
    hostname TEXT PRIMARY KEY,
    chain_pem TEXT,
    key_sealed BLOB,
    not_after TEXT,
    issued_at TEXT,
    order_url TEXT,
    error TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    updated_at TEXT NOT NULL
);
-- The CA account per directory URL, its credentials sealed.
CREATE TABLE acme_accounts (
    directory TEXT PRIMARY KEY,
    credentials_sealed BLOB NOT NULL,
    created_at TEXT NOT NULL
);
-- Every new order, kept a week: the client-side budget under the CA's published limits (orders
-- per account per 3 hours, certificates per registered domain per week) counts them.
CREATE TABLE acme_orders (
    id INTEGER PRIMARY KEY,
    directory TEXT NOT NULL,
    hostname TEXT NOT NULL,
    registered_domain TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX acme_orders_created ON acme_orders (directory, created_at);
