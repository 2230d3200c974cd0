-- Bank statements (issue 17): who pays, and every incoming bank payment imported.
--
-- payer_tax_ids / payer_contracts: the lookups the statement matcher needs (a payer's ИНН ->
-- its clients -> their contracts and numbers), written in the same transaction as the
-- ClientRegistered / ContractOpened events that state them (the append's in_transaction hook).
CREATE TABLE payer_tax_ids (
    client_id  uuid PRIMARY KEY,
    tax_id     text NOT NULL
);
CREATE INDEX payer_tax_ids_tax_id ON payer_tax_ids (tax_id);

CREATE TABLE payer_contracts (
    contract_id  uuid PRIMARY KEY,
    client_id    uuid NOT NULL,
    number       text NOT NULL
);
CREATE INDEX payer_contracts_client ON payer_contracts (client_id);

-- The events written before this migration: contract numbers (tax ids are new with it).
INSERT INTO payer_contracts (contract_id, client_id, number)
SELECT (data->>'contract_id')::uuid, (data->>'client_id')::uuid, data->>'number'
  FROM events WHERE event_type = 'ContractOpened'
ON CONFLICT DO NOTHING;

-- bank_receipts: one row per incoming payment ever imported, keyed by the id made from the
-- bank document (BankLine.id), so a statement imported again records nothing new.
-- status: matched (recorded as a receipt on contract_id in the same transaction),
-- unallocated (kept for an accountant, with the reason), allocated (by hand, later).
CREATE TABLE bank_receipts (
    id               uuid PRIMARY KEY,
    seq              bigserial NOT NULL UNIQUE,
    status           text NOT NULL CHECK (status IN ('matched', 'unallocated', 'allocated')),
    booked_on        date NOT NULL,
    document_number  text NOT NULL,
    document_date    date NOT NULL,
    amount           numeric NOT NULL,
    currency         text NOT NULL,
    payer            text NOT NULL,
    payer_tax_id     text,
    payer_account    text,
    account          text,
    purpose          text NOT NULL,
    reference        text NOT NULL,
    reason           text,
    rule             text,
    contract_id      uuid,
    imported_at      timestamptz NOT NULL DEFAULT now(),
    imported_by      text NOT NULL,
    allocated_at     timestamptz,
    allocated_by     text
);
CREATE INDEX bank_receipts_unallocated ON bank_receipts (seq) WHERE status = 'unallocated';
