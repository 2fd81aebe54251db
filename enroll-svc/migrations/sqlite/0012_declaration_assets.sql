-- The data of assets served through the edge's asset proxy (docs/declarative.md): credentials
-- a declaration references, sealed at rest with enroll-svc's secret key, served only to a device
-- that holds the asset, authenticated as itself.
CREATE TABLE declaration_assets (
    identifier   TEXT PRIMARY KEY NOT NULL REFERENCES declarations (identifier) ON DELETE CASCADE,
    content_type TEXT NOT NULL,
    sealed       BLOB NOT NULL,
    updated_at   BIGINT NOT NULL
);
