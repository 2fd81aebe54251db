-- The device list sorted by name (ignoring case) or by last contact, continued after a
-- (value, ID) key: each order reads its index.
CREATE INDEX enrollments_name_order ON enrollments (COALESCE(lower(device_name), ''), id);
CREATE INDEX enrollments_last_seen_order ON enrollments (last_seen_at, id);
