-- abonent: no-transaction
-- Two indexes nothing reads any more (issue 20). Debtors read period_debts since 0008:
--   periods_owed_idx        (due_on, client_id) WHERE NOT paid   — 0001, the first debtors query
--   periods_client_owed_idx (client_id, due_on) WHERE NOT paid   — 0003, the debtors walk's probe
-- No query of adapters/reads.py reads them (coverage: periods_client_idx; the contracts list:
-- periods_contract_idx per contract, its `paid` filter a condition on those rows; income: the
-- rollup; debtors: period_debts), yet every period written — every payment — updates both.
-- tests/integration/projections/test_query_plans.py holds the plans without them.
--
-- Dropped CONCURRENTLY, outside a transaction (shared/db/migrations.py): the live consumer's
-- writes to periods go on meanwhile. The file runs again from the top after a failure part-way.
-- New schemas (a rebuild's) no longer build them: the functions that made them are replaced
-- with the same indexes less these two.
CREATE OR REPLACE FUNCTION projections_meta.create_read_model_base_indexes(target text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  EXECUTE format($ddl$
    CREATE INDEX clients_position_idx ON %1$I.clients (position);
    CREATE INDEX contracts_client_idx ON %1$I.contracts (client_id, number, contract_id);
    CREATE INDEX contracts_number_idx ON %1$I.contracts (number, contract_id);
    CREATE INDEX periods_client_idx ON %1$I.periods (client_id, starts_on);
    CREATE INDEX periods_contract_idx ON %1$I.periods (contract_id, starts_on);
    CREATE INDEX periods_income_idx ON %1$I.periods (income_on);
    CREATE INDEX payments_paid_on_idx ON %1$I.payments (paid_on) WHERE NOT cancelled;
    CREATE INDEX payments_client_idx ON %1$I.payments (client_id, paid_on);
  $ddl$, target);
END
$fn$;

CREATE OR REPLACE FUNCTION projections_meta.create_read_model_indexes_0003(target text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM projections_meta.create_read_model_base_indexes(target);
  EXECUTE format($ddl$
    CREATE INDEX clients_name_idx ON %1$I.clients (name, client_id);
  $ddl$, target);
END
$fn$;

DROP INDEX CONCURRENTLY IF EXISTS projections.periods_owed_idx;
DROP INDEX CONCURRENTLY IF EXISTS projections.periods_client_owed_idx;
