-- outbox_quarantine: outbox rows the broker refuses for good (a record over message.max.bytes,
-- a topic that does not exist), moved here by the relay with the broker's error so the rows
-- behind them can go on (issue 15). A row keeps its outbox id: released for a retry it goes
-- back under that id, ahead of the rows of its key that waited behind it.
-- While a key has a row here, the relay publishes no later row of that key (per-key order):
-- they wait in the outbox, and the service's readiness report shows them.
CREATE TABLE outbox_quarantine (
    id              bigint      PRIMARY KEY,
    topic           text        NOT NULL,
    key             text        NOT NULL,
    event_id        uuid        NOT NULL,
    payload         bytea       NOT NULL,
    headers         jsonb       NOT NULL,
    created_at      timestamptz NOT NULL,
    error           text        NOT NULL,
    quarantined_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX outbox_quarantine_key_idx ON outbox_quarantine (key);
