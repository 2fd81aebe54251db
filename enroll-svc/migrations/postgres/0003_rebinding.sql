-- Re-binding is proven, never assumed (docs/security.md).

-- Grows each time an enrollment starts afresh (a new Authenticate, a user channel's return after
-- CheckOut). command-svc serves only commands queued for the current generation, so nothing
-- queued for an earlier enrollment runs on a later one.
ALTER TABLE enrollments ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;

-- The enrollment a certificate first authenticated: it can never authenticate another.
ALTER TABLE issued_certificates ADD COLUMN enrollment_id TEXT;

-- An administrator's approval for an enrolled device to bind a different certificate at its next
-- Authenticate (used once, or expires).
CREATE TABLE reenrollment_approvals (
    enrollment_id TEXT PRIMARY KEY NOT NULL,
    approved_by   TEXT NOT NULL,
    reason        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);

-- What was refused or approved about enrollments, and by whom.
CREATE TABLE audit_log (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            BIGINT NOT NULL,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    enrollment_id TEXT NOT NULL,
    detail        TEXT NOT NULL
);
CREATE INDEX audit_log_enrollment ON audit_log (enrollment_id, id);
