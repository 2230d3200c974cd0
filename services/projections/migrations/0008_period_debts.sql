-- Debtors for every date (issue 20). The walk of 0003 probes every client in name order until
-- it has a page: cheap when many owe on D, a walk over all 100 k clients when few do (a date
-- early in the history, a payment-terms filter few match), and deep pages grow with OFFSET.
-- period_debts keeps, with the read model, one row per period that is (or was) owed:
--
--   owed on D as at D  <=>  due_on <= D - grace  AND  (settled_on IS NULL OR settled_on > D)
--
-- settled_on is the first day the period counts as paid as at that day (docs/design.md §8:
-- only payments with paid_on <= D count), NULL while it is not paid now. A period paid by its
-- due day was never owed and has no row; a void period (shared/owed.py) has none either.
-- The query (adapters/reads.py owed_periods) counts the periods owed on D (unpaid now: a btree
-- range; paid since: a GiST on the interval), at most a bound: few -> gathers their clients and
-- sorts them; many -> walks clients
-- in the answer's order probing period_debts_client_idx, which stops at the page. A keyset
-- cursor (after = name, client_id) makes a deep page cost what the first one costs.
--
-- One definition, the view period_debt_rows, used by the live consumer for the periods a
-- batch touches (adapters/store.py) and by fill_period_debts for a whole schema (a rebuild
-- fills it once at the end, as it does income_months). "paid as at X" is the same arithmetic
-- as adapters/reads.py paid_as_at: paid_amount less the payments dated after X.
ALTER FUNCTION projections_meta.create_read_model(text, boolean, boolean)
  RENAME TO create_read_model_before_0008;
ALTER FUNCTION projections_meta.create_read_model_indexes(text)
  RENAME TO create_read_model_indexes_before_0008;

CREATE FUNCTION projections_meta.add_period_debts(target text, unlogged boolean) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  EXECUTE format($ddl$
    CREATE VIEW %1$I.period_debt_rows AS
      SELECT p.period_id, p.client_id, p.contract_id, p.payment_terms, p.due_on, s.settled_on
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

    CREATE %2$s TABLE %1$I.period_debts (
      period_id     uuid PRIMARY KEY,
      client_id     uuid NOT NULL,
      contract_id   uuid NOT NULL,
      payment_terms text NOT NULL,
      due_on        date NOT NULL,
      settled_on    date            -- NULL: not paid now
    );
  $ddl$, target, CASE WHEN unlogged THEN 'UNLOGGED' ELSE '' END);
END
$fn$;

CREATE FUNCTION projections_meta.create_read_model(
  target text, with_indexes boolean DEFAULT true, unlogged boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  -- the indexes last: create_read_model_indexes (by name, the one below) indexes period_debts too
  PERFORM projections_meta.create_read_model_before_0008(target, false, unlogged);
  PERFORM projections_meta.add_period_debts(target, unlogged);
  IF with_indexes THEN
    PERFORM projections_meta.create_read_model_indexes(target);
  END IF;
END
$fn$;

--   period_debts_client_idx : the walk's probe and a page's debts, one client's (index-only)
--   period_debts_open_idx   : the periods unpaid now owed on D, due_on <= D (a btree range:
--                             a bounded count of them stops early, a bitmap would not)
--   period_debts_owed_idx   : the periods paid since, owed on D: daterange(due_on, settled_on) @> D
CREATE FUNCTION projections_meta.create_period_debts_indexes(target text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  EXECUTE format($ddl$
    CREATE INDEX period_debts_client_idx ON %1$I.period_debts (client_id, due_on)
      INCLUDE (settled_on, payment_terms, period_id);
    CREATE INDEX period_debts_open_idx ON %1$I.period_debts (due_on) INCLUDE (payment_terms, client_id)
      WHERE settled_on IS NULL;
    CREATE INDEX period_debts_owed_idx ON %1$I.period_debts USING gist (daterange(due_on, settled_on))
      WHERE settled_on IS NOT NULL;
  $ddl$, target);
END
$fn$;

CREATE FUNCTION projections_meta.create_read_model_indexes(target text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM projections_meta.create_read_model_indexes_before_0008(target);
  PERFORM projections_meta.create_period_debts_indexes(target);
END
$fn$;

CREATE FUNCTION projections_meta.fill_period_debts(target text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  EXECUTE format($sql$
    TRUNCATE %1$I.period_debts;
    INSERT INTO %1$I.period_debts SELECT * FROM %1$I.period_debt_rows;
  $sql$, target);
END
$fn$;

-- The live schema: the table filled from its tables, then indexed (a new table: nothing waits
-- on it; the fill only reads periods, payments and contracts).
SELECT projections_meta.add_period_debts('projections', false);
SELECT projections_meta.fill_period_debts('projections');
SELECT projections_meta.create_period_debts_indexes('projections');
ANALYZE projections.period_debts;
