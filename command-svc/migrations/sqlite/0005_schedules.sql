-- Periodic jobs that one replica at a time runs (the inventory schedule): where each continues,
-- and until when the replica that claimed the current run holds it.
CREATE TABLE schedules (
    name         TEXT PRIMARY KEY NOT NULL,
    -- The last enrollment ID done; '' to start from the beginning.
    cursor       TEXT NOT NULL DEFAULT '',
    claimed_until BIGINT NOT NULL DEFAULT 0
);
