-- Every uploaded push certificate, newest (highest version) current. Older versions are kept
-- for a short history and pruned on upload.
CREATE TABLE push_certificates (
    version      INTEGER PRIMARY KEY AUTOINCREMENT,
    topic        TEXT NOT NULL,
    -- production | sandbox
    environment  TEXT NOT NULL,
    -- The certificate chain, PEM, leaf first.
    chain_pem    TEXT NOT NULL,
    -- The private key (PEM), sealed with the service's secret key (service-kit::secrets).
    sealed_key   BLOB NOT NULL,
    sha256       TEXT NOT NULL,
    subject      TEXT NOT NULL,
    issuer       TEXT NOT NULL,
    serial       TEXT NOT NULL,
    not_before   BIGINT NOT NULL,
    not_after    BIGINT NOT NULL,
    uploaded_at  BIGINT NOT NULL,
    uploaded_by  TEXT NOT NULL,
    -- The last certificate-level refusal from APNs (403), for administrators.
    last_error    TEXT,
    last_error_at BIGINT
);

-- The one push topic of this server, fixed by the first upload: a renewal with another topic
-- would cut off every enrolled device. One row; the insert is the lock two uploads race on.
CREATE TABLE push_topic (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    topic TEXT NOT NULL
);

-- One row per enrollment (device or user channel) that sent a TokenUpdate.
CREATE TABLE push_targets (
    enrollment_id TEXT PRIMARY KEY NOT NULL,
    device_id     TEXT NOT NULL,
    token         BLOB NOT NULL,
    push_magic    TEXT NOT NULL,
    topic         TEXT NOT NULL,
    -- active | inactive
    status        TEXT NOT NULL,
    -- Why it needs attention: Unregistered, ExpiredToken, BadDeviceToken, silent, ...
    flag          TEXT,
    registered_at BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    last_push_at  BIGINT,
    last_outcome  TEXT,
    last_reason   TEXT,
    inactive_at   BIGINT
);

-- A device's CheckOut removes its user channels' targets too.
CREATE INDEX push_targets_device_id ON push_targets (device_id);
-- The inactivity sweep: active targets by silence.
CREATE INDEX push_targets_status_seen ON push_targets (status, last_seen_at);
