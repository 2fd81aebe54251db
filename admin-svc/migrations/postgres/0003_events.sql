-- Events from the services' outboxes (docs/events.md), webhooks and their deliveries, blueprints.

-- Every event admin-svc received, in the order it received them (`seq`). `id` is the emitting
-- service's UUID: an event pulled twice (the acknowledgement was lost) is stored once.
CREATE TABLE events (
    seq           BIGSERIAL PRIMARY KEY,
    id            TEXT NOT NULL,
    type          TEXT NOT NULL,
    -- enroll-svc | command-svc | push-svc
    source        TEXT NOT NULL,
    occurred_at   BIGINT NOT NULL,
    received_at   BIGINT NOT NULL,
    enrollment_id TEXT NOT NULL,
    command_uuid  TEXT,
    request_type  TEXT,
    status        TEXT,
    raw           BYTEA,
    attributes    TEXT
);
CREATE UNIQUE INDEX events_id ON events (id);
CREATE INDEX events_enrollment ON events (enrollment_id, seq);
CREATE INDEX events_received ON events (received_at);

-- Endpoints events are posted to. The secret (HMAC-SHA256 key) is sealed with admin-svc's
-- secret_key.
CREATE TABLE webhooks (
    id                   TEXT PRIMARY KEY NOT NULL,
    url                  TEXT NOT NULL,
    description          TEXT NOT NULL,
    -- Comma-separated type patterns ("*", "command.*", "enrollment.authenticated").
    event_types          TEXT NOT NULL,
    -- mdm | micromdm
    format               TEXT NOT NULL,
    sealed_secret        BYTEA NOT NULL,
    enabled              BOOLEAN NOT NULL,
    created_by           TEXT NOT NULL,
    created_at           BIGINT NOT NULL,
    -- Failures in a row; the endpoint is not tried again before retry_at.
    consecutive_failures BIGINT NOT NULL DEFAULT 0,
    retry_at             BIGINT NOT NULL DEFAULT 0,
    last_success_at      BIGINT,
    last_failure_at      BIGINT,
    last_error           TEXT
);

-- One event to one endpoint: pending until the endpoint answers 2xx (delivered), or until it
-- has failed max_attempts times (dead, replayable).
CREATE TABLE webhook_deliveries (
    id              BIGSERIAL PRIMARY KEY,
    webhook_id      TEXT NOT NULL,
    event_seq       BIGINT NOT NULL,
    enrollment_id   TEXT NOT NULL,
    -- pending | delivered | dead
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_attempt_at BIGINT,
    response_status BIGINT,
    last_error      TEXT,
    completed_at    BIGINT
);
-- The sender's question: per endpoint and enrollment, the oldest pending delivery.
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (webhook_id, enrollment_id, event_seq)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_listing ON webhook_deliveries (webhook_id, status, id);
CREATE INDEX webhook_deliveries_completed ON webhook_deliveries (completed_at) WHERE completed_at IS NOT NULL;

-- Work one replica at a time does (the dispatcher): held until a time, renewed while it runs.
CREATE TABLE leases (
    name   TEXT PRIMARY KEY NOT NULL,
    holder TEXT NOT NULL,
    until  BIGINT NOT NULL
);

-- Commands applied to a device when it finishes enrolling (its first TokenUpdate).
CREATE TABLE blueprints (
    id                  TEXT PRIMARY KEY NOT NULL,
    name                TEXT NOT NULL,
    description         TEXT NOT NULL,
    -- A JSON array of command documents, as POST /v1/commands takes them.
    commands            TEXT NOT NULL,
    command_count       BIGINT NOT NULL,
    -- Every new device, or only those enrolled with one of enrollment_token_ids (comma-separated).
    applies_to_all      BOOLEAN NOT NULL,
    enrollment_token_ids TEXT NOT NULL,
    -- Send DeviceConfigured after the commands to a device waiting in Setup Assistant.
    device_configured   BOOLEAN NOT NULL,
    enabled             BOOLEAN NOT NULL,
    created_by          TEXT NOT NULL,
    created_at          BIGINT NOT NULL
);
CREATE UNIQUE INDEX blueprints_name ON blueprints (name);

-- A blueprint applied to one enrollment generation: made in the transaction that stores the
-- TokenUpdate event, advanced by the dispatcher.
CREATE TABLE blueprint_runs (
    id                     TEXT PRIMARY KEY NOT NULL,
    blueprint_id           TEXT NOT NULL,
    enrollment_id          TEXT NOT NULL,
    generation             BIGINT NOT NULL,
    awaiting_configuration BOOLEAN NOT NULL,
    -- queueing | waiting (for the commands' answers) | configuring | done | failed
    status                 TEXT NOT NULL,
    -- Commands queued so far, and how many of them have a final answer.
    queued                 BIGINT NOT NULL DEFAULT 0,
    answered               BIGINT NOT NULL DEFAULT 0,
    total                  BIGINT NOT NULL,
    error                  TEXT,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL
);
CREATE UNIQUE INDEX blueprint_runs_once ON blueprint_runs (blueprint_id, enrollment_id, generation);
CREATE INDEX blueprint_runs_status ON blueprint_runs (status);
CREATE INDEX blueprint_runs_enrollment ON blueprint_runs (enrollment_id);

-- The commands a run queued, so their answers advance it.
CREATE TABLE blueprint_commands (
    command_uuid TEXT PRIMARY KEY NOT NULL,
    run_id       TEXT NOT NULL,
    answered     BOOLEAN NOT NULL DEFAULT FALSE
);
