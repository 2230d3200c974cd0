-- eventstore_append: one append in one round trip (issue 20). The key's lock, the version
-- check, the events, their outbox rows and the relay's wake-up, which were four statements
-- (BEGIN + lock, insert, outbox insert, COMMIT) from the service, are one call: alone
-- (autocommit) it is its own transaction; with the caller's own writes it runs inside theirs.
--
-- Order, as before: the lock comes first, and in READ COMMITTED every statement of a volatile
-- function takes a new snapshot, so the head read after the lock sees every commit of the key
-- before it; positions are taken after the lock, so per key insert order = commit order.
-- A stream not at p_expected (and p_expected is not -1, "any") writes nothing and returns one
-- row (NULL, head, NULL): the caller raises ConcurrencyError. A stream written meanwhile
-- under another key's lock still fails on events_stream_version_key, as before.
--
-- Outbox rows: p_stamp_of[i] = n means row i carries an envelope of the n-th event of this
-- append whose store-assigned fields (position, stream_version, recorded_at) the service
-- could not know: its payload is a JSON object without them, its headers lack position and
-- stream_version. They are added here as the event gets them (shared.outbox.messages.stamped
-- does the same in Python). p_stamp_of[i] NULL: the row is written as given.
CREATE FUNCTION eventstore_append(
    p_lock bigint, p_stream text, p_expected integer, p_partition_key text,
    p_correlation_id text, p_causation_id text, p_actor text,
    p_event_ids uuid[], p_event_types text[], p_schema_versions integer[], p_data jsonb[],
    p_occurred_at timestamptz[],
    p_topics text[], p_keys text[], p_message_ids uuid[], p_payloads bytea[], p_headers jsonb[],
    p_stamp_of integer[]
) RETURNS TABLE (appended_position bigint, appended_version integer, appended_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    head integer;
BEGIN
    PERFORM pg_advisory_xact_lock(p_lock);
    SELECT coalesce(max(e.stream_version), 0) INTO head FROM events e WHERE e.stream_id = p_stream;
    IF p_expected <> -1 AND head <> p_expected THEN
        RETURN QUERY SELECT NULL::bigint, head, NULL::timestamptz;
        RETURN;
    END IF;
    RETURN QUERY
    WITH written AS (
        INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version,
                            partition_key, data, occurred_at, correlation_id, causation_id, actor)
        SELECT u.id, p_stream, head + u.n, u.t, u.v, p_partition_key, u.d, u.o,
               p_correlation_id, p_causation_id, p_actor
        FROM unnest(p_event_ids, p_event_types, p_schema_versions, p_data, p_occurred_at)
             WITH ORDINALITY AS u(id, t, v, d, o, n)
        ORDER BY u.n
        RETURNING events.position, events.stream_version, events.recorded_at),
    queued AS (  -- runs to completion although nothing reads it (a data-modifying WITH always does)
        INSERT INTO outbox (topic, key, event_id, payload, headers)
        SELECT m.t, m.k, m.e,
               CASE WHEN m.s IS NULL THEN m.p ELSE
                   convert_to(format('{"position":%s,"stream_version":%s,"recorded_at":"%s",',
                                     w.position, w.stream_version,
                                     to_char(w.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')),
                              'UTF8') || substr(m.p, 2) END,
               CASE WHEN m.s IS NULL THEN m.h ELSE
                   m.h || jsonb_build_object('position', w.position::text,
                                             'stream_version', w.stream_version::text) END
        FROM unnest(p_topics, p_keys, p_message_ids, p_payloads, p_headers, p_stamp_of)
             WITH ORDINALITY AS m(t, k, e, p, h, s, n)
        LEFT JOIN written w ON w.stream_version = head + m.s
        ORDER BY m.n
        RETURNING 1)
    SELECT w.position, w.stream_version, w.recorded_at FROM written w ORDER BY w.stream_version;
    IF cardinality(p_topics) > 0 THEN
        PERFORM pg_notify('abonent_outbox', '');  -- delivered at commit: the rows are visible then
    END IF;
END
$$;
