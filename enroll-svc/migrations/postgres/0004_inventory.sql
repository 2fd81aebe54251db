-- Inventory: what command results said about each device (command-svc sends it), and the
-- indexes of the device list's filters.
ALTER TABLE enrollments ADD COLUMN capacity_gb DOUBLE PRECISION;
ALTER TABLE enrollments ADD COLUMN available_gb DOUBLE PRECISION;
ALTER TABLE enrollments ADD COLUMN battery_level DOUBLE PRECISION;
ALTER TABLE enrollments ADD COLUMN supervised BOOLEAN;
ALTER TABLE enrollments ADD COLUMN encrypted BOOLEAN;
ALTER TABLE enrollments ADD COLUMN passcode_present BOOLEAN;
ALTER TABLE enrollments ADD COLUMN app_count BIGINT;
-- When a result last updated the inventory (command-svc's clock): an older report never
-- overwrites a newer one.
ALTER TABLE enrollments ADD COLUMN inventory_updated_at BIGINT;

-- The apps of each device's last InstalledApplicationList.
CREATE TABLE installed_apps (
    enrollment_id TEXT NOT NULL,
    identifier    TEXT NOT NULL,
    name          TEXT,
    version       TEXT,
    build         TEXT,
    size_bytes    BIGINT,
    PRIMARY KEY (enrollment_id, identifier)
);

-- The device list's filters, each with the enrollment ID for its order. Prefix filters compare
-- bytewise (COLLATE "C"), so that a range scan finds every value starting with the prefix.
CREATE INDEX enrollments_status_id ON enrollments (status, id);
CREATE INDEX enrollments_serial_id ON enrollments (serial_number, id);
CREATE INDEX enrollments_product_id ON enrollments (product_name, id);
CREATE INDEX enrollments_model_id ON enrollments (model, id);
CREATE INDEX enrollments_model_name_id ON enrollments (model_name, id);
CREATE INDEX enrollments_os_version ON enrollments ((os_version COLLATE "C"));
CREATE INDEX enrollments_device_name ON enrollments ((lower(device_name) COLLATE "C"));
CREATE INDEX enrollments_last_seen ON enrollments (last_seen_at);
