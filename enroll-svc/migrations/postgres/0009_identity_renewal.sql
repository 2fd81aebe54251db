-- Identity renewal (docs/identities.md): a renewal profile's SCEP challenge names the
-- enrollment it renews and the certificate it replaces; the certificate issued through it
-- carries the enrollment, and replaces that enrollment's binding at its first use.
ALTER TABLE scep_challenges ADD COLUMN renewal_for TEXT;
ALTER TABLE scep_challenges ADD COLUMN renews_serial TEXT;
ALTER TABLE issued_certificates ADD COLUMN renewal_for TEXT;
-- The certificate itself: a renewal profile is encrypted to the identity it replaces, so that
-- only the device holding that key reads the new challenge (a command's payload is readable
-- through the admin API and in the database).
ALTER TABLE issued_certificates ADD COLUMN der BYTEA;
