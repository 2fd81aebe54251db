-- Admin tokens made through the API (the bootstrap tokens live in the configuration). The
-- secret is stored as its SHA-256 only.
CREATE TABLE admin_tokens (
    id           TEXT PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL,
    sha256       BYTEA NOT NULL,
    -- Comma-separated scope names.
    scopes       TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE UNIQUE INDEX admin_tokens_sha256 ON admin_tokens (sha256);
-- A name is one actor: two live tokens may not share it.
CREATE UNIQUE INDEX admin_tokens_live_name ON admin_tokens (name) WHERE revoked_at IS NULL;
CREATE INDEX admin_tokens_created ON admin_tokens (created_at, id);

-- What administrators did to the API's own credentials.
CREATE TABLE audit_log (
    id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at     BIGINT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
