-- A period is void when it starts on or after its contract's terminated_on (issue 12, DESIGN §8:
-- "terminated on" is the first day without service), whether the termination has taken effect
-- or is still ahead: the status ('terminated') now changes only when the date comes
-- (ContractTerminationTookEffect), so the income views no longer look at it.
-- The rollup's shape is unchanged: the function that makes it for new schemas is replaced, the
-- live view likewise, and the live rollup is summed again from its tables.
CREATE OR REPLACE FUNCTION projections_meta.create_income_rollup(target text, unlogged boolean)
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  EXECUTE format($ddl$
    CREATE VIEW %1$I.period_income AS
      SELECT p.period_id, p.contract_id, p.client_id,
             date_trunc('month', p.income_on::timestamp)::date AS month, p.currency,
             p.amount AS due, GREATEST(p.amount - p.paid_amount, 0) AS outstanding
      FROM %1$I.periods p JOIN %1$I.contracts c ON c.contract_id = p.contract_id
      WHERE c.terminated_on IS NULL OR p.starts_on < c.terminated_on;

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
      items       integer NOT NULL,
      PRIMARY KEY (month, currency)
    );
  $ddl$, target, CASE WHEN unlogged THEN 'UNLOGGED' ELSE '' END);
END
$fn$;

CREATE OR REPLACE VIEW projections.period_income AS
  SELECT p.period_id, p.contract_id, p.client_id,
         date_trunc('month', p.income_on::timestamp)::date AS month, p.currency,
         p.amount AS due, GREATEST(p.amount - p.paid_amount, 0) AS outstanding
  FROM projections.periods p JOIN projections.contracts c ON c.contract_id = p.contract_id
  WHERE c.terminated_on IS NULL OR p.starts_on < c.terminated_on;

SELECT projections_meta.fill_income_months('projections');
