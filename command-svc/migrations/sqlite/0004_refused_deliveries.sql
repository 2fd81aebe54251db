-- The dashboard's "errors in the last 24 hours" and "recent errors": refused deliveries by when
-- they were answered, kept apart so that neither query reads a long history of successes.
CREATE INDEX deliveries_refused ON deliveries (completed_at)
    WHERE status IN ('error', 'command_format_error');
