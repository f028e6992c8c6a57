-- Stored value (储值): a balance per customer that equals the sum of its ledger (top-ups, their
-- bonus, payments, refunds, adjustments), each entry under a unique key.

CREATE TABLE stored_value_accounts (
    customer_id  UUID BLOB PRIMARY KEY REFERENCES customers (id),
    balance      BIGINT NOT NULL,
    updated_at   TIMESTAMP TEXT NOT NULL,
    CHECK (balance >= 0)
);

CREATE TABLE stored_value_ledger (
    id           UUID BLOB PRIMARY KEY,
    customer_id  UUID BLOB NOT NULL REFERENCES customers (id),
    -- top_up, bonus, pay, refund, adjust
    kind         TEXT NOT NULL,
    amount       BIGINT NOT NULL,
    order_id     UUID BLOB,
    -- how a top-up was paid (cash, card) and the terminal's reference
    method       TEXT,
    reference    TEXT,
    idem_key     TEXT NOT NULL UNIQUE,
    actor_id     UUID BLOB,
    at           TIMESTAMP TEXT NOT NULL
);
CREATE INDEX stored_value_ledger_customer ON stored_value_ledger (customer_id, id);
