-- abonent: no-transaction
-- A debtors page read period_debts for its clients' owed periods, then each period's row in
-- periods by primary key for the rest of an answer's row (issue 20): at docs/design.md §7 scale
-- ~900 random probes of a 2 M-row table a page, half of the page's ~7-12 k buffers, and most
-- of what a page costs when its buffers are not in shared buffers (bench/results/
-- notes-20261201-full-scale-quiet.md: 49 ms cold against 13.6 ms warm). period_debts now
-- carries those columns (starts_on, ends_on, amount, currency, paid_amount) and the client
-- index includes them: a page's rows are an index-only range per client, next to the walk's
-- probe of the same client. periods is read only for a period with something paid, for its
-- payments dated after D (reads.py owed_columns).
--
-- The columns are appended, so the view and the table keep one column order and the consumer
-- (adapters/store.py REFRESH_DEBTS) and the rebuild's fill stay INSERT ... SELECT *.
--
-- Outside a transaction (shared/db/migrations.py) so that the live consumer's writes go on: the
-- backfill commits every 10,000 rows, the index is built CONCURRENTLY. The file runs again from
-- the top after a failure part-way: every statement is safe to repeat.
-- One definition of the view, for a new schema (add_period_debts) and the live one (below).
CREATE OR REPLACE FUNCTION projections_meta.create_period_debt_rows(target text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  EXECUTE format($ddl$
    CREATE OR REPLACE VIEW %1$I.period_debt_rows AS
      SELECT p.period_id, p.client_id, p.contract_id, p.payment_terms, p.due_on, s.settled_on,
             p.starts_on, p.ends_on, p.amount, p.currency, p.paid_amount
      FROM %1$I.periods p
      JOIN %1$I.contracts c ON c.contract_id = p.contract_id
      LEFT JOIN LATERAL (
        -- the earliest X (a payment's date, or -infinity) with paid_amount - (payments dated
        -- after X) >= amount; later = the sum of the payments dated strictly after X
        SELECT min(l.paid_on) AS settled_on
        FROM (SELECT x.paid_on,
                     coalesce(sum(x.amount) OVER (ORDER BY x.paid_on DESC
                       RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW EXCLUDE GROUP), 0) AS later
              FROM (SELECT q.paid_on, q.amount FROM %1$I.payments q
                    WHERE q.period_id = p.period_id AND NOT q.cancelled
                    UNION ALL SELECT '-infinity'::date, 0::numeric) x) l
        WHERE p.paid_amount - l.later >= p.amount) s ON p.paid
      WHERE (c.terminated_on IS NULL OR p.starts_on < c.terminated_on)
        AND (NOT p.paid OR s.settled_on > p.due_on);
  $ddl$, target);
END
$fn$;

CREATE OR REPLACE FUNCTION projections_meta.add_period_debts(target text, unlogged boolean) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  EXECUTE format($ddl$
    CREATE %2$s TABLE %1$I.period_debts (
      period_id     uuid PRIMARY KEY,
      client_id     uuid NOT NULL,
      contract_id   uuid NOT NULL,
      payment_terms text NOT NULL,
      due_on        date NOT NULL,
      settled_on    date,           -- NULL: not paid now
      starts_on     date NOT NULL,  -- from here on: the period's own, for a page's rows
      ends_on       date NOT NULL,
      amount        numeric(20, 2) NOT NULL,
      currency      text NOT NULL,
      paid_amount   numeric(20, 2) NOT NULL
    );
  $ddl$, target, CASE WHEN unlogged THEN 'UNLOGGED' ELSE '' END);
  PERFORM projections_meta.create_period_debt_rows(target);
END
$fn$;

--   period_debts_rows_idx : the walk's probe and a page's rows, one client's (index-only)
--   period_debts_open_idx : the periods unpaid now owed on D, due_on <= D (a btree range:
--                           a bounded count of them stops early, a bitmap would not)
--   period_debts_owed_idx : the periods paid since, owed on D: daterange(due_on, settled_on) @> D
CREATE OR REPLACE FUNCTION projections_meta.create_period_debts_indexes(target text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  EXECUTE format($ddl$
    CREATE INDEX period_debts_rows_idx ON %1$I.period_debts (client_id, due_on)
      INCLUDE (settled_on, payment_terms, period_id, contract_id, starts_on, ends_on, amount, currency,
               paid_amount);
    CREATE INDEX period_debts_open_idx ON %1$I.period_debts (due_on) INCLUDE (payment_terms, client_id)
      WHERE settled_on IS NULL;
    CREATE INDEX period_debts_owed_idx ON %1$I.period_debts USING gist (daterange(due_on, settled_on))
      WHERE settled_on IS NOT NULL;
  $ddl$, target);
END
$fn$;

-- The live schema. The columns and the view in one transaction: a consumer's INSERT ... SELECT *
-- always finds the same columns in both.
DO $do$
BEGIN
  ALTER TABLE projections.period_debts
    ADD COLUMN IF NOT EXISTS starts_on date, ADD COLUMN IF NOT EXISTS ends_on date,
    ADD COLUMN IF NOT EXISTS amount numeric(20, 2), ADD COLUMN IF NOT EXISTS currency text,
    ADD COLUMN IF NOT EXISTS paid_amount numeric(20, 2);
  PERFORM projections_meta.create_period_debt_rows('projections');
END
$do$;

-- The backfill, 10,000 rows a transaction (row locks held for a moment, not for the whole table).
DO $do$
DECLARE
  done bigint;
BEGIN
  LOOP
    UPDATE projections.period_debts d
    SET starts_on = p.starts_on, ends_on = p.ends_on, amount = p.amount, currency = p.currency,
        paid_amount = p.paid_amount
    FROM projections.periods p
    WHERE p.period_id = d.period_id
      AND d.period_id IN (SELECT e.period_id FROM projections.period_debts e
                          JOIN projections.periods q ON q.period_id = e.period_id
                          WHERE e.starts_on IS NULL LIMIT 10000);
    GET DIAGNOSTICS done = ROW_COUNT;
    COMMIT;
    EXIT WHEN done = 0;
  END LOOP;
END
$do$;

-- a row whose period is gone would be deleted by the next batch touching it; none should exist
DELETE FROM projections.period_debts WHERE starts_on IS NULL;

ALTER TABLE projections.period_debts
  ALTER COLUMN starts_on SET NOT NULL, ALTER COLUMN ends_on SET NOT NULL, ALTER COLUMN amount SET NOT NULL,
  ALTER COLUMN currency SET NOT NULL, ALTER COLUMN paid_amount SET NOT NULL;

DROP INDEX CONCURRENTLY IF EXISTS projections.period_debts_rows_idx;
CREATE INDEX CONCURRENTLY period_debts_rows_idx ON projections.period_debts (client_id, due_on)
  INCLUDE (settled_on, payment_terms, period_id, contract_id, starts_on, ends_on, amount, currency, paid_amount);
DROP INDEX CONCURRENTLY IF EXISTS projections.period_debts_client_idx;
ANALYZE projections.period_debts;
