-- The event store and its transactional outbox (shared by every event-sourced service).
--
-- events: one row per event. (stream_id, stream_version) is unique, so two writers that read
-- the same version cannot both append: the second gets a unique violation -> ConcurrencyError.
-- position is a bigserial. A bigserial value taken first can commit last, so the writer takes
-- pg_advisory_xact_lock(partition key) before inserting: for one key (one client) insert
-- order = commit order = position order. Across keys no order is promised (Kafka gives none).
CREATE TABLE events (
    position        bigserial PRIMARY KEY,
    event_id        uuid        NOT NULL UNIQUE,
    stream_id       text        NOT NULL,
    stream_version  integer     NOT NULL CHECK (stream_version >= 1),
    event_type      text        NOT NULL,
    schema_version  integer     NOT NULL CHECK (schema_version >= 1),
    partition_key   text        NOT NULL,
    data            jsonb       NOT NULL,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    correlation_id  text        NOT NULL,
    causation_id    text,
    actor           text        NOT NULL,
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version)
);

-- outbox: what still has to reach Kafka, written in the same transaction as the events.
-- The relay publishes in id order and deletes what the broker acknowledged; the events
-- table stays the permanent record (a replay reads it, not the outbox).
CREATE TABLE outbox (
    id          bigserial PRIMARY KEY,
    topic       text        NOT NULL,
    key         text        NOT NULL,
    event_id    uuid        NOT NULL,
    payload     bytea       NOT NULL,
    headers     jsonb       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
