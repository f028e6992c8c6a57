-- Customers: one profile per person with every identifier that resolves to it, a dense ordinal
-- for audience bitmaps, the home store and exclusive guide, and the merges of duplicate
-- profiles (the absorbed profile stays, pointing at the survivor).

CREATE TABLE counters (
    name   TEXT PRIMARY KEY,
    value  BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('customer_ordinal', 0);

CREATE TABLE customers (
    id             UUID BLOB PRIMARY KEY,
    ordinal        BIGINT NOT NULL UNIQUE,
    display_name   TEXT,
    home_store_id  UUID BLOB REFERENCES stores (id),
    guide_id       UUID BLOB REFERENCES staff (id),
    merged_into    UUID BLOB REFERENCES customers (id),
    created_at     TIMESTAMP TEXT NOT NULL,
    updated_at     TIMESTAMP TEXT NOT NULL
);
CREATE INDEX customers_home ON customers (home_store_id, id);
CREATE INDEX customers_guide ON customers (guide_id, id);

CREATE TABLE customer_identities (
    kind         TEXT NOT NULL,
    value        TEXT NOT NULL,
    customer_id  UUID BLOB NOT NULL REFERENCES customers (id),
    created_at   TIMESTAMP TEXT NOT NULL,
    UNIQUE (kind, value)
);
CREATE INDEX customer_identities_customer ON customer_identities (customer_id);

CREATE TABLE customer_merges (
    id           UUID BLOB PRIMARY KEY,
    survivor_id  UUID BLOB NOT NULL REFERENCES customers (id),
    absorbed_id  UUID BLOB NOT NULL UNIQUE REFERENCES customers (id),
    identities   BIGINT NOT NULL,
    reason       TEXT,
    actor_id     UUID BLOB,
    at           TIMESTAMP TEXT NOT NULL
);
