-- The event outbox (docs/events.md): an event commits with the change it describes and stays
-- until admin-svc's dispatcher acknowledges it. `position` never repeats (AUTOINCREMENT), and
-- `id` is a random UUID (version 4) made by the database at insert.
CREATE TABLE event_outbox (
    position      INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT NOT NULL DEFAULT (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2)))
                      || '-4' || substr(lower(hex(randomblob(2))), 2) || '-'
                      || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2)
                      || '-' || lower(hex(randomblob(6)))),
    type          TEXT NOT NULL,
    occurred_at   BIGINT NOT NULL,
    enrollment_id TEXT NOT NULL,
    command_uuid  TEXT,
    status        TEXT,
    raw           BLOB,
    -- A JSON object.
    attributes    TEXT
);
