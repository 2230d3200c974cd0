-- What the scheduler still has to emit, kept in the same transaction as each contract append.
-- One row per pending time event; `key` is the domain's emission key (it includes the date
-- the event was armed for, so a period whose dates change gets a new row: it is re-armed).
-- A tick reads only rows with due_on <= as_of: an index range scan, never a scan of streams.
CREATE TABLE time_events_due (
    contract_id  uuid NOT NULL,
    key          text NOT NULL,
    kind         text NOT NULL,
    period_id    uuid NOT NULL,
    due_on       date NOT NULL,
    PRIMARY KEY (contract_id, key)
);
CREATE INDEX time_events_due_on_idx ON time_events_due (due_on, contract_id);
