-- The tickets list: one row per ticket, rewritten in the same transaction as every append to
-- the ticket's stream (the event store's `also` hook), so it is never behind the events.
-- The ticket itself is read from its stream; this table serves GET /tickets filters only.
CREATE TABLE tickets (
    ticket_id        uuid        PRIMARY KEY,
    client_id        uuid        NOT NULL,
    title            text        NOT NULL,
    registered_at    timestamptz NOT NULL,
    registered_on    date        NOT NULL,
    coverage_status  text        NOT NULL
        CHECK (coverage_status IN ('covered', 'unpaid', 'not_covered', 'unknown')),
    warning_codes    text[]      NOT NULL DEFAULT '{}',
    override_reason  text,
    billable         boolean     NOT NULL,
    lines            integer     NOT NULL DEFAULT 0,
    totals           jsonb       NOT NULL DEFAULT '[]',   -- [{"amount": "1500.00", "currency": "RUB"}]
    version          integer     NOT NULL,
    position         bigint      NOT NULL                 -- event-store position of its last event
);
-- Lists are read newest first, by registration date, with optional filters.
CREATE INDEX tickets_client_idx ON tickets (client_id, registered_on DESC, registered_at DESC, ticket_id);
CREATE INDEX tickets_status_idx ON tickets (coverage_status, registered_on DESC, registered_at DESC, ticket_id);
CREATE INDEX tickets_registered_idx ON tickets (registered_on DESC, registered_at DESC, ticket_id);
