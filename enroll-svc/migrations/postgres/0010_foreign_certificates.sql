-- Certificates devices present that this server's CA did not issue (an operator's CA, the CA of
-- a server devices were migrated from): kept as the edge forwards them at admission, so that
-- their expiry is announced like ours and a renewal profile can be encrypted to them, which
-- moves the device onto this server's CA (docs/identities.md).
CREATE TABLE foreign_certificates (
    sha256            BYTEA PRIMARY KEY NOT NULL,
    -- Lowercase hex without leading zeros.
    serial            TEXT NOT NULL,
    der               BYTEA NOT NULL,
    not_after         BIGINT NOT NULL,
    seen_at           BIGINT NOT NULL,
    expiry_noticed_at BIGINT
);
CREATE INDEX foreign_certificates_unnoticed ON foreign_certificates (not_after) WHERE expiry_noticed_at IS NULL;
-- What a renewal replaces, by fingerprint (the certificate may not be ours, so not by serial):
-- the renewal takes the binding over only from exactly that certificate.
ALTER TABLE scep_challenges ADD COLUMN renews_sha256 BYTEA;
ALTER TABLE issued_certificates ADD COLUMN renews_sha256 BYTEA;
