-- GET /v1/events?type=…: events of one type in order, without reading the others.
CREATE INDEX events_type ON events (type, seq);
-- GET /v1/webhooks/{id}/deliveries without a status: a webhook's deliveries, newest first.
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id);
