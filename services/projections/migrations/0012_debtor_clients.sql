-- Debtors without a probe per client (issue 20). When many owe on D, a debtors page walked
-- every client in name order and probed its debts: at docs/design.md §7 scale ~1,040 clients
-- probed for 101 debtors today, 3,137 of the page's 3,483 buffers (bench.debtors_scale).
-- debtor_clients keeps, with the read model, one row per client with a debt unpaid now, its
-- name and the earliest due day of those debts per payment terms:
--
--   a client owes on D  <=>  an unpaid debt is due by D - grace  (prepaid_due / postpaid_due)
--                            OR a debt due by then was settled only after D (period_debts)
--
-- A page walks debtor_clients_name_idx in the answer's order (index-only, stops at the page);
-- the clients of debts settled after D are merged in (adapters/reads.py owed_periods): none
-- for today, gathered when few, walked when many.
--
-- One definition, the view debtor_client_rows, used by the live consumer for the clients a
-- batch touches (adapters/store.py REFRESH_DEBTORS) and by fill_debtor_clients for a whole
-- schema (fill_period_debts calls it, so a rebuild and every other filler of period_debts
-- fill both).
CREATE FUNCTION projections_meta.add_debtor_clients(target text, unlogged boolean) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  EXECUTE format($ddl$
    CREATE VIEW %1$I.debtor_client_rows AS
      SELECT d.client_id, c.name,
             min(d.due_on) FILTER (WHERE d.payment_terms = 'prepaid') AS prepaid_due,
             min(d.due_on) FILTER (WHERE d.payment_terms = 'postpaid') AS postpaid_due
      FROM %1$I.period_debts d
      LEFT JOIN %1$I.clients c ON c.client_id = d.client_id
      WHERE d.settled_on IS NULL
      GROUP BY d.client_id, c.name;

    CREATE %2$s TABLE %1$I.debtor_clients (
      client_id    uuid PRIMARY KEY,
      name         text,
      prepaid_due  date,  -- the earliest due day of its prepaid debts unpaid now; NULL: none
      postpaid_due date
    );
  $ddl$, target, CASE WHEN unlogged THEN 'UNLOGGED' ELSE '' END);
END
$fn$;

ALTER FUNCTION projections_meta.create_read_model(text, boolean, boolean)
  RENAME TO create_read_model_before_0012;
ALTER FUNCTION projections_meta.create_read_model_indexes(text)
  RENAME TO create_read_model_indexes_before_0012;

CREATE FUNCTION projections_meta.create_read_model(
  target text, with_indexes boolean DEFAULT true, unlogged boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM projections_meta.create_read_model_before_0012(target, false, unlogged);
  PERFORM projections_meta.add_debtor_clients(target, unlogged);
  IF with_indexes THEN
    PERFORM projections_meta.create_read_model_indexes(target);
  END IF;
END
$fn$;

CREATE FUNCTION projections_meta.create_debtor_clients_indexes(target text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  EXECUTE format($ddl$
    CREATE INDEX debtor_clients_name_idx ON %1$I.debtor_clients (name, client_id)
      INCLUDE (prepaid_due, postpaid_due);
  $ddl$, target);
END
$fn$;

CREATE FUNCTION projections_meta.create_read_model_indexes(target text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM projections_meta.create_read_model_indexes_before_0012(target);
  PERFORM projections_meta.create_debtor_clients_indexes(target);
END
$fn$;

CREATE FUNCTION projections_meta.fill_debtor_clients(target text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  EXECUTE format($sql$
    TRUNCATE %1$I.debtor_clients;
    INSERT INTO %1$I.debtor_clients SELECT * FROM %1$I.debtor_client_rows;
  $sql$, target);
END
$fn$;

CREATE OR REPLACE FUNCTION projections_meta.fill_period_debts(target text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  EXECUTE format($sql$
    TRUNCATE %1$I.period_debts;
    INSERT INTO %1$I.period_debts SELECT * FROM %1$I.period_debt_rows;
  $sql$, target);
  PERFORM projections_meta.fill_debtor_clients(target);
END
$fn$;

-- The live schema: a new table, filled from period_debts and clients, then indexed.
SELECT projections_meta.add_debtor_clients('projections', false);
SELECT projections_meta.fill_debtor_clients('projections');
SELECT projections_meta.create_debtor_clients_indexes('projections');
ANALYZE projections.debtor_clients;
