-- The price list: services outside the subscription. State-stored (not event-sourced): a
-- ticket line copies the price it was added at into its TicketItemAdded event, so the
-- history that matters for billing lives in the tickets' streams.
CREATE TABLE price_list (
    code        text          PRIMARY KEY,
    name        text          NOT NULL,
    unit        text          NOT NULL,
    price       numeric(17,2) NOT NULL CHECK (price >= 0),
    currency    char(3)       NOT NULL,
    active      boolean       NOT NULL DEFAULT true,
    version     integer       NOT NULL DEFAULT 1,
    created_at  timestamptz   NOT NULL DEFAULT clock_timestamp(),
    updated_at  timestamptz   NOT NULL DEFAULT clock_timestamp()
);
