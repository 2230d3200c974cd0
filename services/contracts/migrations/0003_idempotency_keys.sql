-- Idempotency-Key of the creating POSTs (shared/http/idempotency.py, docs/http.md): the first
-- answer per (caller, key), replayed to a retry with the same request; kept at least 24 hours.
CREATE TABLE idempotency_keys (
    actor        text        NOT NULL,            -- the token's subject: keys are per caller
    key          text        NOT NULL,
    fingerprint  bytea       NOT NULL,            -- sha256 of method, path, query and body
    status       integer,                         -- null while the first request is in flight
    headers      jsonb,
    body         bytea,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (actor, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
