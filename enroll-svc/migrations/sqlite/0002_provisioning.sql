-- The device-identity CA, SCEP challenges, issued certificates, enrollment tokens and OTA sessions.

-- The CA: one row (id = 1). Its private key is sealed with the service's secret key.
CREATE TABLE device_ca (
    id          INTEGER PRIMARY KEY NOT NULL,
    cert_der    BLOB NOT NULL,
    sealed_key  BLOB NOT NULL,
    created_at  BIGINT NOT NULL
);

-- Every certificate the CA issued, so that any one of them can be looked up and revoked.
CREATE TABLE issued_certificates (
    -- Lowercase hex without leading zeros.
    serial              TEXT PRIMARY KEY NOT NULL,
    sha256              BLOB NOT NULL,
    common_name         TEXT NOT NULL,
    -- ota | enrollment | direct (a renewal keeps the flow of what it renews)
    flow                TEXT NOT NULL,
    ota_session_id      TEXT,
    enrollment_token_id TEXT,
    renewed_from        TEXT,
    issued_at           BIGINT NOT NULL,
    not_after           BIGINT NOT NULL,
    revoked_at          BIGINT,
    revocation_reason   TEXT,
    revoked_by          TEXT
);
-- The edge and the check-in path look certificates up by fingerprint.
CREATE UNIQUE INDEX issued_certificates_sha256 ON issued_certificates (sha256);

-- One-time SCEP challenges, stored as SHA-256 (a database leak gives no usable challenge).
CREATE TABLE scep_challenges (
    challenge_sha256    BLOB PRIMARY KEY NOT NULL,
    -- The CN the certificate gets (the UDID, or the direct flow's random identifier).
    common_name         TEXT NOT NULL,
    flow                TEXT NOT NULL,
    ota_session_id      TEXT,
    enrollment_token_id TEXT,
    created_at          BIGINT NOT NULL,
    expires_at          BIGINT NOT NULL,
    used_at             BIGINT
);
CREATE INDEX scep_challenges_expires_at ON scep_challenges (expires_at);

-- Enrollment tokens, stored as SHA-256.
CREATE TABLE enrollment_tokens (
    id            TEXT PRIMARY KEY NOT NULL,
    token_sha256  BLOB NOT NULL,
    description   TEXT NOT NULL,
    user_name     TEXT,
    -- NULL: unlimited until it expires.
    max_uses      BIGINT,
    uses          BIGINT NOT NULL DEFAULT 0,
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked_at    BIGINT
);
CREATE UNIQUE INDEX enrollment_tokens_sha256 ON enrollment_tokens (token_sha256);

-- One OTA enrollment in progress: phase 1 made it (challenge stored as SHA-256), phase 2 bound it
-- to a UDID, phase 3 reads it.
CREATE TABLE ota_sessions (
    id                  TEXT PRIMARY KEY NOT NULL,
    challenge_sha256    BLOB NOT NULL,
    enrollment_token_id TEXT NOT NULL,
    user_name           TEXT,
    udid                TEXT,
    serial_number       TEXT,
    product             TEXT,
    created_at          BIGINT NOT NULL,
    expires_at          BIGINT NOT NULL,
    verified_at         BIGINT
);
CREATE UNIQUE INDEX ota_sessions_challenge ON ota_sessions (challenge_sha256);
CREATE INDEX ota_sessions_expires_at ON ota_sessions (expires_at);
