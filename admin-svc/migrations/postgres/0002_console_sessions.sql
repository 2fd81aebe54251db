-- Web console sessions. The cookie holds a random secret; only its SHA-256 is stored, so a copy
-- of the database opens no session. A session names the token it was opened with, and its
-- scopes are that token's at every request: revoking the token (or removing it from the
-- configuration) ends its sessions.
CREATE TABLE console_sessions (
    id_sha256    BYTEA PRIMARY KEY NOT NULL,
    -- 'configured' (token_ref is the configured token's name) or 'api' (its ID).
    token_kind   TEXT NOT NULL,
    token_ref    TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    -- It ends then, however active.
    expires_at   BIGINT NOT NULL,
    -- Written at most once a minute; the session ends after the idle limit without use.
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);
