-- Debtors walk clients in the answer's order (issue #8). GET /debtors gathered every period
-- owed on D (periods_owed_idx) before choosing the page: 218 ms of PostgreSQL at DESIGN §7
-- scale for a first page, growing with the data. It now walks clients by (name, client_id)
-- and probes each one's unpaid periods, stopping at page_size + 1 debtors
-- (adapters/reads.py owed_periods):
--   clients_name_idx        (name, client_id)                -> the walk, in the answer's order
--   periods_client_owed_idx (client_id, due_on) WHERE NOT paid -> the probe, a few entries each
--
-- The indexes join the read model's shape: the 0001 function keeps making the base indexes
-- under a new name, create_read_model_indexes = those + these (create_read_model and the
-- rebuild's finish step both call it by name), and the live schema gets them here.
ALTER FUNCTION projections_meta.create_read_model_indexes(text)
  RENAME TO create_read_model_base_indexes;

CREATE FUNCTION projections_meta.create_read_model_indexes(target text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM projections_meta.create_read_model_base_indexes(target);
  EXECUTE format($ddl$
    CREATE INDEX clients_name_idx ON %1$I.clients (name, client_id);
    CREATE INDEX periods_client_owed_idx ON %1$I.periods (client_id, due_on) WHERE NOT paid;
  $ddl$, target);
END
$fn$;

CREATE INDEX clients_name_idx ON projections.clients (name, client_id);
CREATE INDEX periods_client_owed_idx ON projections.periods (client_id, due_on) WHERE NOT paid;
