-- The notifier's delivery log: one row per notified event, one row per (event, recipient).
-- The primary key of `deliveries` is the "exactly one e-mail per (event, recipient)" rule:
-- a row is claimed with SELECT ... FOR UPDATE for the duration of one SMTP attempt, and
-- `status` leaves 'pending' in the same transaction that the attempt's outcome is written.

CREATE TABLE notifications (
    event_id         uuid PRIMARY KEY,
    event_type       text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('reminder', 'debt_notice')),
    client_id        uuid NOT NULL,
    contract_id      uuid NOT NULL,
    contract_number  text NOT NULL,
    subject          text NOT NULL,
    correlation_id   text,
    received_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_newest_idx ON notifications (received_at DESC, event_id DESC);
CREATE INDEX notifications_client_idx ON notifications (client_id, received_at DESC, event_id DESC);

CREATE TABLE deliveries (
    event_id     uuid NOT NULL REFERENCES notifications (event_id),
    recipient    text NOT NULL,
    role         text NOT NULL CHECK (role IN ('manager', 'general')),
    kind         text NOT NULL CHECK (kind IN ('reminder', 'debt_notice')),
    subject      text NOT NULL,
    message_id   text NOT NULL,
    status       text NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'sent', 'failed', 'dead')),
    attempts     integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz,
    PRIMARY KEY (event_id, recipient),
    CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);
CREATE INDEX deliveries_unsettled_idx ON deliveries (updated_at) WHERE status IN ('pending', 'dead');

-- Messages that could not become a notification at all (broken JSON, unknown event type,
-- nobody to write to): kept here and in the dead-letter topic, by their Kafka coordinates.
CREATE TABLE rejected_messages (
    topic        text NOT NULL,
    "partition"  integer NOT NULL,
    "offset"     bigint NOT NULL,
    event_id     uuid,
    event_type   text,
    reason       text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, "partition", "offset")
);
