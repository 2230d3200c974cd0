-- Invoices (issue 17): gap-free numbers per company series and year, and an index of issued
-- invoices by id and by number, both written in the same transaction as the contract append
-- that issues them (docs/design.md "Invoice numbers").
CREATE TABLE invoice_counters (
    series   text    NOT NULL,
    year     integer NOT NULL,
    last_seq integer NOT NULL CHECK (last_seq >= 0),
    PRIMARY KEY (series, year)
);

CREATE TABLE invoices (
    invoice_id  uuid PRIMARY KEY,
    series      text    NOT NULL,
    number      text    NOT NULL,
    contract_id uuid    NOT NULL,
    period_id   uuid    NOT NULL UNIQUE,
    amount      numeric NOT NULL,
    currency    text    NOT NULL,
    UNIQUE (series, number)
);
CREATE INDEX invoices_number_idx ON invoices (number);
