-- When the identity-expiry event was emitted for a certificate (once each; see
-- docs/events.md, enrollment.identity_expiring).
ALTER TABLE issued_certificates ADD COLUMN expiry_noticed_at BIGINT;
-- The sweep's question: certificates not noticed yet, by expiry.
CREATE INDEX issued_certificates_unnoticed ON issued_certificates (not_after) WHERE expiry_noticed_at IS NULL;
