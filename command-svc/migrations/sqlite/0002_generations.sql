-- The enrollment generation each delivery was queued for (enroll-svc's count of the times the
-- enrollment started afresh). Only deliveries of the device's current generation are served;
-- older ones become 'superseded' at its next Idle. 0: queued before the enrollment was known
-- (and for rows from before this migration): served to whichever generation asks first.
ALTER TABLE deliveries ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;
