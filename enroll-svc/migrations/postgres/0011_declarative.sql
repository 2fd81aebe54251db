-- Declarative Device Management (docs/declarative.md): declarations, the sets that group them,
-- the enrollments each set is assigned to, and what devices report about them.
CREATE TABLE declarations (
    identifier   TEXT PRIMARY KEY NOT NULL,
    type         TEXT NOT NULL,
    -- The Payload as accepted (JSON text); served as is.
    payload      TEXT NOT NULL,
    -- A digest of type, identifier and payload: changes exactly when they do.
    server_token TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    updated_by   TEXT NOT NULL
);
CREATE TABLE declaration_sets (
    name       TEXT PRIMARY KEY NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);
-- A declaration stays while a set holds it (RESTRICT): deleting it must not change devices'
-- manifests behind their sets' backs.
CREATE TABLE declaration_set_members (
    set_name   TEXT NOT NULL REFERENCES declaration_sets (name) ON DELETE CASCADE,
    identifier TEXT NOT NULL REFERENCES declarations (identifier) ON DELETE RESTRICT,
    position   INTEGER NOT NULL,
    PRIMARY KEY (set_name, identifier)
);
CREATE INDEX declaration_set_members_by_declaration ON declaration_set_members (identifier, set_name);
-- Assignments outlive re-enrollment and check-out: they say what an administrator wants the
-- device to hold whenever it is managed.
CREATE TABLE declaration_set_assignments (
    set_name      TEXT NOT NULL REFERENCES declaration_sets (name) ON DELETE CASCADE,
    enrollment_id TEXT NOT NULL,
    assigned_at   BIGINT NOT NULL,
    assigned_by   TEXT NOT NULL,
    PRIMARY KEY (set_name, enrollment_id)
);
CREATE INDEX declaration_set_assignments_by_enrollment ON declaration_set_assignments (enrollment_id, set_name);
-- The latest state a device reported of each declaration it holds (management.declarations).
CREATE TABLE declaration_status (
    enrollment_id TEXT NOT NULL,
    identifier    TEXT NOT NULL,
    server_token  TEXT NOT NULL,
    active        BOOLEAN NOT NULL,
    -- valid | invalid | unknown
    valid         TEXT NOT NULL,
    -- JSON array of {Code, Description, Details}.
    reasons       TEXT NOT NULL,
    reported_at   BIGINT NOT NULL,
    PRIMARY KEY (enrollment_id, identifier)
);
CREATE INDEX declaration_status_by_declaration ON declaration_status (identifier, enrollment_id);
-- The latest value of each status item a device reported, and every change to one for the
-- retention period (declarative.status_history_days).
CREATE TABLE status_items (
    enrollment_id TEXT NOT NULL,
    item          TEXT NOT NULL,
    -- JSON text.
    value         TEXT NOT NULL,
    reported_at   BIGINT NOT NULL,
    PRIMARY KEY (enrollment_id, item)
);
CREATE TABLE status_reports (
    enrollment_id       TEXT PRIMARY KEY NOT NULL,
    last_report_at      BIGINT NOT NULL,
    full_report_at      BIGINT
);
CREATE TABLE status_history (
    id            BIGSERIAL PRIMARY KEY,
    enrollment_id TEXT NOT NULL,
    item          TEXT NOT NULL,
    value         TEXT NOT NULL,
    reported_at   BIGINT NOT NULL
);
CREATE INDEX status_history_by_enrollment ON status_history (enrollment_id, item, reported_at);
CREATE INDEX status_history_by_time ON status_history (reported_at);
