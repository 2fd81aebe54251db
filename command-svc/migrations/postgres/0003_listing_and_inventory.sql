-- Who cancelled a command and when: it stays readable, marked cancelled.
ALTER TABLE commands ADD COLUMN cancelled_at BIGINT;
ALTER TABLE commands ADD COLUMN cancelled_by TEXT;

-- The command list's filters, newest first (UUIDv7 order).
CREATE INDEX commands_request_type ON commands (request_type, command_uuid);
CREATE INDEX commands_requested_by ON commands (requested_by, command_uuid);
-- A command's deliveries of one status, in enrollment order.
CREATE INDEX deliveries_command_status ON deliveries (command_uuid, status, enrollment_id);

-- What acknowledged results said about devices, written in the same transaction as the
-- result, until enroll-svc has it (at least once; it keeps the newest).
CREATE TABLE inventory_outbox (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    enrollment_id TEXT NOT NULL,
    reported_at   BIGINT NOT NULL,
    -- mdm.v1.InventoryUpdate, protobuf-encoded.
    payload       BYTEA NOT NULL
);

-- Audit actions are named <object>.<past tense> across services.
UPDATE audit_log SET action = 'command.queued' WHERE action = 'enqueue';
