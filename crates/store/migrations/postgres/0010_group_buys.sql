-- Group buy (拼团): offers, their groups with a guarded seat count, and the orders that hold
-- the seats (one per customer and group).

CREATE TABLE group_buy_offers (
    id              UUID PRIMARY KEY,
    name            TEXT NOT NULL,
    store_id        UUID NOT NULL REFERENCES stores (id),
    sku_id          UUID NOT NULL REFERENCES skus (id),
    group_price     BIGINT NOT NULL,
    group_size      BIGINT NOT NULL,
    window_minutes  BIGINT NOT NULL,
    starts_at       TIMESTAMPTZ NOT NULL,
    ends_at         TIMESTAMPTZ NOT NULL,
    created_by      UUID,
    created_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE group_buys (
    id          UUID PRIMARY KEY,
    offer_id    UUID NOT NULL REFERENCES group_buy_offers (id),
    size        BIGINT NOT NULL,
    seats       BIGINT NOT NULL,
    status      TEXT NOT NULL,
    opened_at   TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    formed_at   TIMESTAMPTZ,
    CHECK (seats >= 0 AND seats <= size)
);
CREATE INDEX group_buys_offer ON group_buys (offer_id, id);
CREATE INDEX group_buys_expiry ON group_buys (status, expires_at);

CREATE TABLE group_buy_members (
    order_id     UUID PRIMARY KEY REFERENCES orders (id),
    group_id     UUID NOT NULL REFERENCES group_buys (id),
    customer_id  UUID NOT NULL REFERENCES customers (id),
    at           TIMESTAMPTZ NOT NULL,
    UNIQUE (group_id, customer_id)
);
