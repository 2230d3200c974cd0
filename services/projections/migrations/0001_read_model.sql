-- Projections read model. Read models are disposable: their shape lives in ONE function,
-- projections_meta.create_read_model(schema), used here for the live schema "projections"
-- and by the rebuild CLI for fresh schemas that are then swapped in by renaming.
-- A later migration that changes the shape replaces this function AND alters (or rebuilds)
-- the live schema.
--
-- Sizing (DESIGN §7): 100k clients, 300k contracts, 2M periods.
--   coverage  : periods_client_idx   (client_id, starts_on)            -> index range scan
--   debtors   : periods_owed_idx     (due_on, client_id) WHERE NOT paid -> partial index, small
--   contracts : contracts_client_idx / contracts_number_idx, periods_contract_idx
--   income    : periods_income_idx (income_on), payments_paid_on_idx WHERE NOT cancelled
CREATE SCHEMA IF NOT EXISTS projections_meta;

-- Secondary indexes apart, so a rebuild can bulk-load first and index once at the end.
CREATE OR REPLACE FUNCTION projections_meta.create_read_model_indexes(target text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  EXECUTE format($ddl$
    CREATE INDEX clients_position_idx ON %1$I.clients (position);
    CREATE INDEX contracts_client_idx ON %1$I.contracts (client_id, number, contract_id);
    CREATE INDEX contracts_number_idx ON %1$I.contracts (number, contract_id);
    CREATE INDEX periods_client_idx ON %1$I.periods (client_id, starts_on);
    CREATE INDEX periods_contract_idx ON %1$I.periods (contract_id, starts_on);
    CREATE INDEX periods_owed_idx ON %1$I.periods (due_on, client_id) WHERE NOT paid;
    CREATE INDEX periods_income_idx ON %1$I.periods (income_on);
    CREATE INDEX payments_paid_on_idx ON %1$I.payments (paid_on) WHERE NOT cancelled;
    CREATE INDEX payments_client_idx ON %1$I.payments (client_id, paid_on);
  $ddl$, target);
END
$fn$;

-- with_indexes = false, unlogged = true: a rebuild's bulk-load form (no WAL, no index upkeep);
-- the rebuild then runs SET LOGGED and create_read_model_indexes before it swaps it in.
CREATE OR REPLACE FUNCTION projections_meta.create_read_model(
  target text, with_indexes boolean DEFAULT true, unlogged boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  EXECUTE format('CREATE SCHEMA %I', target);
  EXECUTE format($ddl$
    CREATE %2$s TABLE %1$I.clients (
      client_id      uuid PRIMARY KEY,
      name           text,
      manager_name   text,
      manager_email  text,
      position       bigint            -- highest contracts-store position applied for the client
    );

    CREATE %2$s TABLE %1$I.contracts (
      contract_id        uuid PRIMARY KEY,
      client_id          uuid NOT NULL,
      number             text NOT NULL,
      title              text NOT NULL,
      signed_on          date,
      status             text NOT NULL CHECK (status IN ('active', 'terminated')),
      terminated_on      date,
      termination_reason text
    );

    CREATE %2$s TABLE %1$I.periods (
      period_id     uuid PRIMARY KEY,
      contract_id   uuid NOT NULL,
      client_id     uuid NOT NULL,
      starts_on     date NOT NULL,
      ends_on       date NOT NULL,
      amount        numeric(20, 2) NOT NULL,
      currency      text NOT NULL,
      payment_terms text NOT NULL CHECK (payment_terms IN ('prepaid', 'postpaid')),
      remind_on     date,
      paid_amount   numeric(20, 2) NOT NULL DEFAULT 0,
      paid          boolean GENERATED ALWAYS AS (paid_amount >= amount) STORED,
      -- the first day it is owed: prepaid on its start, postpaid the day after its end
      due_on        date GENERATED ALWAYS AS
                      (CASE WHEN payment_terms = 'prepaid' THEN starts_on ELSE ends_on + 1 END) STORED,
      -- the day whose month it falls due in, for income: start (prepaid) or end (postpaid)
      income_on     date GENERATED ALWAYS AS
                      (CASE WHEN payment_terms = 'prepaid' THEN starts_on ELSE ends_on END) STORED
    );

    CREATE %2$s TABLE %1$I.payments (
      payment_id  uuid PRIMARY KEY,
      period_id   uuid NOT NULL,
      contract_id uuid NOT NULL,
      client_id   uuid NOT NULL,
      amount      numeric(20, 2) NOT NULL,
      currency    text NOT NULL,
      paid_on     date NOT NULL,
      reference   text,
      cancelled   boolean NOT NULL DEFAULT false
    );

    -- Exactly-once bookkeeping, committed with every change it describes.
    CREATE %2$s TABLE %1$I.stream_versions (   -- last applied version per event stream
      stream_id text PRIMARY KEY,
      version   integer NOT NULL
    );
    CREATE %2$s TABLE %1$I.parked_events (     -- arrived ahead of a gap; applied when it fills
      stream_id      text NOT NULL,
      stream_version integer NOT NULL,
      event_id       uuid NOT NULL,
      event_type     text NOT NULL,
      schema_version integer NOT NULL,
      client_id      uuid NOT NULL,
      position       bigint,
      data           jsonb NOT NULL,
      source_topic   text NOT NULL,
      source_partition integer NOT NULL,
      source_offset  bigint NOT NULL,
      PRIMARY KEY (stream_id, stream_version)
    );
    CREATE %2$s TABLE %1$I.consumed_offsets (  -- next Kafka offset to read, per partition
      topic       text NOT NULL,
      partition   integer NOT NULL,
      next_offset bigint NOT NULL,
      PRIMARY KEY (topic, partition)
    );
  $ddl$, target, CASE WHEN unlogged THEN 'UNLOGGED' ELSE '' END);
  IF with_indexes THEN
    PERFORM projections_meta.create_read_model_indexes(target);
  END IF;
END
$fn$;

SELECT projections_meta.create_read_model('projections');
