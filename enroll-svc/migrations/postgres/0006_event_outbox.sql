-- The event outbox (docs/events.md): an event commits with the change it describes and stays
-- until admin-svc's dispatcher acknowledges it. `id` is a random UUID made by the database at
-- insert (gen_random_uuid: PostgreSQL 13 or later).
CREATE TABLE event_outbox (
    position      BIGSERIAL PRIMARY KEY,
    id            TEXT NOT NULL DEFAULT gen_random_uuid()::text,
    type          TEXT NOT NULL,
    occurred_at   BIGINT NOT NULL,
    enrollment_id TEXT NOT NULL,
    command_uuid  TEXT,
    status        TEXT,
    raw           BYTEA,
    -- A JSON object.
    attributes    TEXT
);
