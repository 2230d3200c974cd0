-- A client's stream stopped honestly (issue 15). An event the projections cannot apply — an
-- event type this version does not know (contracts deployed first), a payload its schema
-- refuses, an unexpected error in the fold, a value the database refuses — used to go to the
-- dead-letter topic while every later event of the stream parked forever and coverage kept
-- answering stale=false. Now the stream is stopped at that version, with the reason:
--   * the event itself waits in parked_events (when it can be stored) with its successors;
--   * every answer about the client says stale=true and why (application/queries.py);
--   * the start-up of the service tries stopped streams again, so once the fix is deployed the
--     event and its successors apply without a rebuild; an event re-published at that
--     version (say from the dead-letter topic, fixed) also resumes the stream.
-- No timestamp column: a rebuild stops the same streams, and `cli check` compares the tables.
-- The read model's shape grows: create_read_model = the one before + this table.
ALTER FUNCTION projections_meta.create_read_model(text, boolean, boolean)
  RENAME TO create_read_model_before_0007;

CREATE FUNCTION projections_meta.add_stopped_streams(target text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  EXECUTE format($ddl$
    CREATE TABLE %1$I.stopped_streams (
      stream_id      text PRIMARY KEY,
      client_id      uuid NOT NULL,
      stream_version integer NOT NULL,   -- the first version not applied
      event_id       uuid,
      event_type     text,
      reason         text NOT NULL
    );
    CREATE INDEX stopped_streams_client_idx ON %1$I.stopped_streams (client_id);
  $ddl$, target);
END
$fn$;

CREATE FUNCTION projections_meta.create_read_model(
  target text, with_indexes boolean DEFAULT true, unlogged boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM projections_meta.create_read_model_before_0007(target, with_indexes, unlogged);
  PERFORM projections_meta.add_stopped_streams(target);
END
$fn$;

SELECT projections_meta.add_stopped_streams('projections');
