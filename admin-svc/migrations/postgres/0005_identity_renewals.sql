-- Identity renewals (docs/identities.md): one per certificate that enroll-svc announced as near
-- expiry (enrollment.identity_expiring), from the renewal profile queued as InstallProfile to
-- the device's first request with its new certificate.
CREATE TABLE identity_renewals (
    -- The certificate being replaced.
    serial        TEXT PRIMARY KEY NOT NULL,
    enrollment_id TEXT NOT NULL,
    -- Its notAfter (Unix ms): the renewal fails if the device has not switched by then.
    not_after     BIGINT NOT NULL,
    -- pending (to queue) | queued (InstallProfile waits for the device) | installed (the
    -- device acknowledged it) | renewed (the new certificate is in use) | failed
    status        TEXT NOT NULL,
    command_uuid  TEXT,
    -- The new certificate's serial, once renewed.
    renewed_serial TEXT,
    error         TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX identity_renewals_status ON identity_renewals (status, not_after);
CREATE INDEX identity_renewals_enrollment ON identity_renewals (enrollment_id);
CREATE UNIQUE INDEX identity_renewals_command ON identity_renewals (command_uuid);
