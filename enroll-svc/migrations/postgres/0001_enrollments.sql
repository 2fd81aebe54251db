-- One row per enrollment: the device channel (UDID or EnrollmentID) and each user channel.
CREATE TABLE enrollments (
    id                     TEXT PRIMARY KEY NOT NULL,
    -- The device channel this row belongs to (equal to id for the device channel itself).
    device_id              TEXT NOT NULL,
    -- device | user_enrollment_device | user | user_enrollment_user
    channel                TEXT NOT NULL,
    user_id                TEXT,
    user_short_name        TEXT,
    user_long_name         TEXT,
    -- authenticated | enrolled | checked_out
    status                 TEXT NOT NULL,
    -- SHA-256 of the identity certificate bound at Authenticate (device channel only).
    cert_sha256            BYTEA,
    topic                  TEXT,
    serial_number          TEXT,
    product_name           TEXT,
    model                  TEXT,
    model_name             TEXT,
    device_name            TEXT,
    os_version             TEXT,
    build_version          TEXT,
    imei                   TEXT,
    meid                   TEXT,
    push_token             BYTEA,
    push_magic             TEXT,
    -- Sealed with the service's secret key (service-kit::secrets).
    unlock_token           BYTEA,
    bootstrap_token        BYTEA,
    awaiting_configuration BOOLEAN NOT NULL DEFAULT FALSE,
    created_at             BIGINT NOT NULL,
    authenticated_at       BIGINT,
    token_updated_at       BIGINT,
    checked_out_at         BIGINT,
    last_seen_at           BIGINT NOT NULL
);

-- One certificate can never serve two enrollments; also the lookup by certificate.
CREATE UNIQUE INDEX enrollments_cert_sha256 ON enrollments (cert_sha256) WHERE cert_sha256 IS NOT NULL;
-- User channels of a device (checked out with it, reset on re-enrollment).
CREATE INDEX enrollments_device_id ON enrollments (device_id);
