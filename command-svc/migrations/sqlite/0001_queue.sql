-- A command as queued by an administrator, shared by all its targets.
CREATE TABLE commands (
    -- UUIDv7: ordering by it is ordering by enqueue time.
    command_uuid    TEXT PRIMARY KEY NOT NULL,
    request_type    TEXT NOT NULL,
    -- The full plist sent to devices ({Command, CommandUUID}), rendered once at enqueue.
    payload         BLOB NOT NULL,
    priority        INTEGER NOT NULL,
    -- Unix ms after which the command is never served; NULL = no expiry.
    expires_at      BIGINT,
    idempotency_key TEXT,
    requested_by    TEXT NOT NULL,
    reason          TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX commands_idempotency_key ON commands (idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX commands_expiry ON commands (expires_at) WHERE expires_at IS NOT NULL;

-- One command for one enrollment: its place in the queue, then its outcome.
CREATE TABLE deliveries (
    enrollment_id      TEXT NOT NULL,
    command_uuid       TEXT NOT NULL REFERENCES commands (command_uuid) ON DELETE CASCADE,
    -- Copied from the command so the next-command lookup is one index range.
    priority           INTEGER NOT NULL,
    -- queued | acknowledged | error | command_format_error | cancelled | expired
    status             TEXT NOT NULL,
    -- The edge connection on which the device last answered NotNow: skipped there.
    not_now_connection TEXT,
    not_now_count      INTEGER NOT NULL DEFAULT 0,
    queued_at          BIGINT NOT NULL,
    sent_at            BIGINT,
    completed_at       BIGINT,
    -- The device's report for the final status.
    result             BLOB,
    PRIMARY KEY (enrollment_id, command_uuid)
);
-- The hot path: the head of one enrollment's queue.
CREATE INDEX deliveries_next ON deliveries (enrollment_id, priority DESC, command_uuid) WHERE status = 'queued';
CREATE INDEX deliveries_command ON deliveries (command_uuid, enrollment_id);
-- Retention.
CREATE INDEX deliveries_completed ON deliveries (completed_at) WHERE completed_at IS NOT NULL;

-- Destructive commands: who asked, when, for which device, and why.
CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            BIGINT NOT NULL,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    request_type  TEXT NOT NULL,
    command_uuid  TEXT NOT NULL,
    enrollment_id TEXT NOT NULL,
    reason        TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
