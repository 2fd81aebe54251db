-- Enrollments imported from another MDM server (POST /migration): when, so that the device's
-- first request may bind its certificate (from the operator's migration CA) on first use.
ALTER TABLE enrollments ADD COLUMN migrated_at BIGINT;
