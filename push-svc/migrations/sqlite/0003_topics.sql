-- Several push topics (several push certificates): each topic this server pushes, in the order
-- they were added. A certificate of a topic not listed is refused unless the upload asks to add
-- it. The first topic's certificate is what GetCertificate answers.
CREATE TABLE push_topics (
    topic    TEXT PRIMARY KEY NOT NULL,
    added_at BIGINT NOT NULL,
    added_by TEXT NOT NULL
);
INSERT INTO push_topics (topic, added_at, added_by) SELECT topic, 0, 'the first upload' FROM push_topic;
DROP TABLE push_topic;
-- Each topic's current certificate (its highest version).
CREATE INDEX push_certificates_topic ON push_certificates (topic, version);
