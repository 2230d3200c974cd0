-- Income by month as a rollup (issue #8): GET /income without client_id read and summed every
-- period and payment of the range on each call (26 ms of PostgreSQL CPU for a year at 40k
-- periods, ~50x that at DESIGN §7 scale). income_months keeps the sums per (month, currency);
-- the live consumer updates them in the transaction of the rows they come from
-- (adapters/store.py), a rebuild fills them once from its rebuilt tables
-- (fill_income_months), and `cli check` compares them like any other table.
-- With client_id the query still reads that client's rows (its indexes bound the work), through
-- the same two views, so what counts as income is written down once: here.
--
-- The read model's shape grows: the 0001 function keeps making the base tables under a new
-- name, create_read_model = those + the income objects.
ALTER FUNCTION projections_meta.create_read_model(text, boolean, boolean)
  RENAME TO create_read_model_tables;

-- What one period and one payment add to the income of a month (DESIGN §1, domain/income.py):
-- a period falls due in the month of its income_on, unless its contract was terminated on or
-- before its start (void, as in domain/coverage.py); a payment counts in its month unless
-- cancelled. Months are computed on timestamp (not timestamptz): no dependence on TimeZone.
CREATE FUNCTION projections_meta.create_income_rollup(target text, unlogged boolean)
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  EXECUTE format($ddl$
    CREATE VIEW %1$I.period_income AS
      SELECT p.period_id, p.contract_id, p.client_id,
             date_trunc('month', p.income_on::timestamp)::date AS month, p.currency,
             p.amount AS due, GREATEST(p.amount - p.paid_amount, 0) AS outstanding
      FROM %1$I.periods p JOIN %1$I.contracts c ON c.contract_id = p.contract_id
      WHERE c.status <> 'terminated' OR c.terminated_on IS NULL OR p.starts_on < c.terminated_on;

    CREATE VIEW %1$I.payment_income AS
      SELECT payment_id, client_id, date_trunc('month', paid_on::timestamp)::date AS month,
             currency, amount AS received
      FROM %1$I.payments WHERE NOT cancelled;

    CREATE %2$s TABLE %1$I.income_months (
      month       date NOT NULL,
      currency    text NOT NULL,
      due         numeric(20, 2) NOT NULL,
      outstanding numeric(20, 2) NOT NULL,
      received    numeric(20, 2) NOT NULL,
      items       integer NOT NULL,  -- periods + payments summed here; the row goes at 0, so
                                     -- a currency is listed exactly when the tables have one
      PRIMARY KEY (month, currency)
    );
  $ddl$, target, CASE WHEN unlogged THEN 'UNLOGGED' ELSE '' END);
END
$fn$;

CREATE FUNCTION projections_meta.create_read_model(
  target text, with_indexes boolean DEFAULT true, unlogged boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM projections_meta.create_read_model_tables(target, with_indexes, unlogged);
  PERFORM projections_meta.create_income_rollup(target, unlogged);
END
$fn$;

-- The whole rollup from the tables: for a rebuilt schema (before it is swapped in or
-- compared) and, below, for the live one.
CREATE FUNCTION projections_meta.fill_income_months(target text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  EXECUTE format($sql$
    TRUNCATE %1$I.income_months;
    INSERT INTO %1$I.income_months (month, currency, due, outstanding, received, items)
    SELECT month, currency, sum(due), sum(outstanding), sum(received), count(*)
    FROM (SELECT month, currency, due, outstanding, 0 AS received FROM %1$I.period_income
          UNION ALL
          SELECT month, currency, 0, 0, received FROM %1$I.payment_income) f
    GROUP BY month, currency;
  $sql$, target);
END
$fn$;

SELECT projections_meta.create_income_rollup('projections', false);
SELECT projections_meta.fill_income_months('projections');
