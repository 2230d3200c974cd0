-- Read-your-writes per client across both topics (issue 12 case 12). clients.position is the
-- highest position applied from EITHER contracts topic, so a time event of contract B applied
-- before a payment of contract A (same client, the other topic) made min_position of the
-- payment look reached. Each topic keeps one client's events in position order, so the
-- highest position applied from each topic says how far that topic is known to be complete
-- for the client (application/queries.py wait_for):
--   events_position   — highest applied from contracts.events.v1
--   schedule_position — highest applied from contracts.schedule.v1
-- The read model's shape grows: create_read_model = the 0002 function + these columns.
ALTER FUNCTION projections_meta.create_read_model(text, boolean, boolean)
  RENAME TO create_read_model_0002;

CREATE FUNCTION projections_meta.add_client_topic_positions(target text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  EXECUTE format($ddl$
    ALTER TABLE %1$I.clients ADD COLUMN events_position bigint, ADD COLUMN schedule_position bigint;
  $ddl$, target);
END
$fn$;

CREATE FUNCTION projections_meta.create_read_model(
  target text, with_indexes boolean DEFAULT true, unlogged boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM projections_meta.create_read_model_0002(target, with_indexes, unlogged);
  PERFORM projections_meta.add_client_topic_positions(target);
END
$fn$;

-- The live schema: columns unknown for the clients already there (NULL: such a client's
-- min_position is decided by the consumed offsets until its next event on each topic).
SELECT projections_meta.add_client_topic_positions('projections');
