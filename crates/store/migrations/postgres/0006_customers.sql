-- Customers: one profile per person with every identifier that resolves to it, a dense ordinal
-- for audience bitmaps, the home store and exclusive guide, and the merges of duplicate
-- profiles (the absorbed profile stays, pointing at the survivor); points as a ledger whose sum
-- is the balance.

CREATE TABLE counters (
    name   TEXT PRIMARY KEY,
    value  BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('customer_ordinal', 0);

CREATE TABLE member_tiers (
    id                    UUID PRIMARY KEY,
    code                  TEXT NOT NULL UNIQUE,
    name                  TEXT NOT NULL,
    spend_threshold       BIGINT NOT NULL,
    points_multiplier_bp  BIGINT NOT NULL,
    free_delivery         BOOLEAN NOT NULL,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL
);

CREATE TABLE customers (
    id             UUID PRIMARY KEY,
    ordinal        BIGINT NOT NULL UNIQUE,
    display_name   TEXT,
    home_store_id  UUID REFERENCES stores (id),
    guide_id       UUID REFERENCES staff (id),
    tier_id        UUID REFERENCES member_tiers (id),
    merged_into    UUID REFERENCES customers (id),
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX customers_home ON customers (home_store_id, id);
CREATE INDEX customers_guide ON customers (guide_id, id);

CREATE TABLE customer_identities (
    kind         TEXT NOT NULL,
    value        TEXT NOT NULL,
    customer_id  UUID NOT NULL REFERENCES customers (id),
    created_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (kind, value)
);
CREATE INDEX customer_identities_customer ON customer_identities (customer_id);

CREATE TABLE customer_merges (
    id           UUID PRIMARY KEY,
    survivor_id  UUID NOT NULL REFERENCES customers (id),
    absorbed_id  UUID NOT NULL UNIQUE REFERENCES customers (id),
    identities   BIGINT NOT NULL,
    reason       TEXT,
    actor_id     UUID,
    at           TIMESTAMPTZ NOT NULL
);

CREATE TABLE customer_points (
    customer_id  UUID PRIMARY KEY REFERENCES customers (id),
    balance      BIGINT NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    CHECK (balance >= 0)
);

CREATE TABLE points_ledger (
    id           UUID PRIMARY KEY,
    customer_id  UUID NOT NULL REFERENCES customers (id),
    -- earn, take_back, adjust, expire
    kind         TEXT NOT NULL,
    points       BIGINT NOT NULL,
    order_id     UUID,
    reason       TEXT,
    -- when the points of an earn entry expire
    expires_at   TIMESTAMPTZ,
    idem_key     TEXT NOT NULL UNIQUE,
    actor_id     UUID,
    at           TIMESTAMPTZ NOT NULL
);
CREATE INDEX points_ledger_customer ON points_ledger (customer_id, id);
CREATE INDEX points_ledger_order ON points_ledger (order_id) WHERE order_id IS NOT NULL;
CREATE INDEX points_ledger_expiry ON points_ledger (expires_at) WHERE expires_at IS NOT NULL;

ALTER TABLE orders ADD COLUMN customer_id UUID REFERENCES customers (id);
CREATE INDEX orders_customer ON orders (customer_id, id);
