-- abonent: no-transaction
-- A query waiting for a client's min_position asks, at every look, whether any of the
-- client's events up to that position waits parked (adapters/reads.py CLIENT_MARK_SQL:
-- EXISTS ... FROM parked_events WHERE client_id = $1 AND position <= $2). parked_events is
-- keyed by (stream_id, stream_version) and had no index on client_id, so every look scanned
-- the whole table: nothing while it is near-empty, but a stopped stream holding its
-- successors, or a member catching up with thousands parked, made every waiting query pay a
-- scan per look (issue 20). tests/integration/projections/test_query_plans.py holds the plan.
--
-- Built CONCURRENTLY, outside a transaction (shared/db/migrations.py): the live consumer parks
-- and unparks meanwhile. The file runs again from the top after a failure part-way, so the
-- function is replaced, not renamed. New schemas (a rebuild's) build it with the others.
CREATE OR REPLACE FUNCTION projections_meta.create_read_model_indexes(target text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM projections_meta.create_read_model_indexes_before_0008(target);
  PERFORM projections_meta.create_period_debts_indexes(target);
  EXECUTE format($ddl$
    CREATE INDEX parked_events_client_idx ON %1$I.parked_events (client_id, position);
  $ddl$, target);
END
$fn$;

CREATE INDEX CONCURRENTLY IF NOT EXISTS parked_events_client_idx ON projections.parked_events (client_id, position);
