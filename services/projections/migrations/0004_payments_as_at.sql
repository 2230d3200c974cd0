-- Answers "as at" a date (issue 12, DESIGN §8): coverage, debtors, the contracts filter `paid`
-- and income's `outstanding` count only the payments with paid_on <= D. periods.paid_amount is
-- the sum of every payment not cancelled; as at D the read side subtracts the payments of the
-- period dated after D (adapters/reads.py), looked up per period here:
--   payments_period_idx (period_id, paid_on) WHERE NOT cancelled
-- A period unpaid now was unpaid on any earlier day, so the debtors walk keeps its probe of
-- periods_client_owed_idx and adds one for the periods paid now but not yet on D: a range of
-- payments_client_idx (client_id, paid_on > D) — empty, and so free, when nothing of the
-- client is dated after D (the usual "today").
ALTER FUNCTION projections_meta.create_read_model_indexes(text)
  RENAME TO create_read_model_indexes_0003;

CREATE FUNCTION projections_meta.create_read_model_indexes(target text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM projections_meta.create_read_model_indexes_0003(target);
  EXECUTE format($ddl$
    CREATE INDEX payments_period_idx ON %1$I.payments (period_id, paid_on) WHERE NOT cancelled;
  $ddl$, target);
END
$fn$;

CREATE INDEX payments_period_idx ON projections.payments (period_id, paid_on) WHERE NOT cancelled;
